package dev.parley.core;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.StreamHandle;
import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A cancel names the stream it is meant for, and reaches it through any engine sharing the store, soon. Two
 * engines share one store here, as two JVMs share a database.
 */
public class TargetedCancelTest {
    /** The store both engines use; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private static final String LONG_ANSWER = "one two three four five six seven eight nine ten eleven twelve "
            + "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";
    private final ConversationStore store = newStore();
    private final ScriptedModel slow = ScriptedModel.builder().replyWith(r -> LONG_ANSWER)
            .chunkDelay(Duration.ofMillis(150)).build();
    /** Default stream lease (30 s): a cancel through the other engine must not wait for a renewal. */
    private final ConversationEngine a = EngineFixture.builder(slow, store, Clock.systemUTC()).build();
    private final ConversationEngine b = EngineFixture.builder(slow, store, Clock.systemUTC()).build();

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    @Test
    void aCancelMeantForAStreamThatEndedStopsNeitherTheNextStreamHereNorThroughAnotherEngine() throws Exception {
        Conversation inA = a.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Conversation inB = b.as(member("alice")).get(inA.id());
        StreamingTest.Recorder first = new StreamingTest.Recorder();
        StreamHandle m1 = inA.stream(Prompt.text("first").id("m-1").saveHistory(true).build(), first);
        assertThat(m1.await(Duration.ofSeconds(30))).isTrue();

        StreamingTest.Recorder second = new StreamingTest.Recorder();
        CountDownLatch started = new CountDownLatch(1);
        StreamHandle m2 = inA.stream(Prompt.text("second").id("m-2").build(), new StreamingTest.Recorder() {
            @Override
            public void onDelta(String delta) {
                started.countDown();
                second.onDelta(delta);
            }

            @Override
            public void onComplete(dev.parley.api.Reply reply) {
                second.onComplete(reply);
            }
        });
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        inA.cancelStream("m-1");
        inB.cancelStream("m-1");

        assertThat(m2.await(Duration.ofSeconds(30))).isTrue();
        assertThat(second.completions).singleElement()
                .satisfies(reply -> assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE));
    }

    @Test
    void aCancelThroughAnotherEngineLandsWithinAFractionOfASecondNotAThirdOfTheLease() throws Exception {
        Conversation inA = a.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Conversation inB = b.as(member("alice")).get(inA.id());
        CountDownLatch started = new CountDownLatch(1);
        StreamingTest.Recorder r = new StreamingTest.Recorder() {
            @Override
            public void onDelta(String delta) {
                super.onDelta(delta);
                started.countDown();
            }
        };
        StreamHandle h = inA.stream(Prompt.text("go").build(), r);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        inB.cancelStream(h.promptId());

        // The whole answer takes 20 x 150 ms = 3 s; a cancel seen only at the next renewal (10 s) would miss it.
        assertThat(h.await(Duration.ofSeconds(30))).isTrue();
        assertThat(r.completions).singleElement().satisfies(reply -> {
            assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(reply.text().length()).isLessThan(LONG_ANSWER.length());
        });
    }
}
