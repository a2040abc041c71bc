package dev.parley.samples.server;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** When serve's chat page may list the demo users and their tokens to whoever opens it. */
class ServeCommandTest {
    @Test
    void onlyOnALoopbackAddressAndWhileNoRealModelsKeyIsSet() {
        assertThat(ServeCommand.demoSignIn("127.0.0.1", name -> null)).isTrue();
        assertThat(ServeCommand.demoSignIn("localhost", name -> null)).isTrue();
        assertThat(ServeCommand.demoSignIn("::1", name -> null)).isTrue();
        assertThat(ServeCommand.demoSignIn("0.0.0.0", name -> null)).as("every interface").isFalse();
        assertThat(ServeCommand.demoSignIn("127.0.0.1", Map.of("OPENAI_API_KEY", "sk-live")::get))
                .as("the demo's default model would spend the key").isFalse();
        assertThat(ServeCommand.demoSignIn("127.0.0.1", Map.of("OPENAI_API_KEY", " ")::get)).isTrue();
        assertThat(ServeCommand.demoSignIn("no-such-host.invalid", name -> null)).isFalse();
    }
}
