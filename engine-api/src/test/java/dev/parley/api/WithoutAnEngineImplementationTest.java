package dev.parley.api;

import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.ModelResponse;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThat;

/** engine-api's tests run without engine-core on the class path: exactly the host that forgot the dependency. */
class WithoutAnEngineImplementationTest {

    @Test
    void everyBuildFailsWithTheSameIllegalStateExceptionNamingTheMissingModule() {
        for (int attempt = 0; attempt < 3; attempt++) {
            assertThatThrownBy(() -> ConversationEngine.builder().model("m", request -> new ModelResponse("", null)).build())
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dev.parley:engine-core");
        }
    }

    @Test
    void theDefaultPipelineFailsTheSameWayAndNotWithAnInitializerError() {
        assertThatThrownBy(PromptPipeline::defaults)
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dev.parley:engine-core");
        assertThatThrownBy(PromptPipeline::defaults)
                .isExactlyInstanceOf(IllegalStateException.class);
    }

    @Test
    void aFailedBuildClosesTheStoreItWasGiven() {
        AtomicInteger closes = new AtomicInteger();
        ConversationStore store = (ConversationStore) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{ConversationStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        closes.incrementAndGet();
                        return null;
                    }
                    if (method.getName().equals("toString")) {
                        return "store";
                    }
                    throw new UnsupportedOperationException(method.getName());
                });

        assertThatThrownBy(() -> ConversationEngine.builder().store(store).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no model registered");
        assertThat(closes).hasValue(1);
    }
}
