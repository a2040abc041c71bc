package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.api.values.ModelMessage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Two engines, each with its own store and connection pool, on one PostgreSQL database: two JVMs in miniature. */
class TwoEnginesOnPostgresTest {
    private final String user = "user-" + UUID.randomUUID();
    private final Caller caller = Caller.user(user, "org-" + UUID.randomUUID()).member("ws").build();
    private final ScriptedModel modelA = model();
    private final ScriptedModel modelB = model();
    private ConversationEngine a;
    private ConversationEngine b;

    private static ScriptedModel model() {
        return ScriptedModel.builder()
                .replyWith(r -> "re: " + r.messages().get(r.messages().size() - 1).text())
                .usage(r -> new Usage(r.messages().size() * 10L, r.messages().get(r.messages().size() - 1).text().length()))
                .latency(Duration.ofMillis(1))
                .build();
    }

    @BeforeEach
    void open() {
        a = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", modelA).build();
        b = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", modelB).build();
    }

    @AfterEach
    void close() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @Test
    void concurrentReplaysOfOneIdOnTwoEnginesMakeOneModelCall() throws Exception {
        ScriptedModel slowA = ScriptedModel.builder().replyWith(r -> "from A").latency(Duration.ofMillis(150)).build();
        ScriptedModel slowB = ScriptedModel.builder().replyWith(r -> "from B").latency(Duration.ofMillis(150)).build();
        a.close();
        b.close();
        a = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", slowA).build();
        b = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", slowB).build();
        String id = a.as(caller).create(NewConversation.inWorkspace("ws").build()).id();

        for (int round = 0; round < 5; round++) {
            String messageId = "msg-" + round;
            int threads = 16;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Reply>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                ConversationEngine engine = i % 2 == 0 ? a : b;
                futures.add(pool.submit(() -> {
                    start.await();
                    return engine.as(caller).get(id).send(Prompt.text("same").id(messageId).build());
                }));
            }
            start.countDown();
            Set<String> texts = new HashSet<>();
            Set<String> replyIds = new HashSet<>();
            for (Future<Reply> f : futures) {
                Reply r = f.get(60, TimeUnit.SECONDS);
                texts.add(r.text());
                replyIds.add(r.messageId());
            }
            pool.shutdown();

            assertThat(slowA.callCount() + slowB.callCount()).as("model calls after round %d", round).isEqualTo(round + 1);
            assertThat(texts).hasSize(1);
            assertThat(replyIds).hasSize(1);
        }
        assertThat(a.as(caller).get(id).messages(PageRequest.first()).totalElements()).isEqualTo(10);
    }

    @Test
    void aPatchOnOneEngineIsSeenByTheOthersNextTurn() {
        Conversation onA = a.as(caller).create(NewConversation.inWorkspace("ws").personality("Be terse.").build());
        Conversation onB = b.as(caller).get(onA.id());
        onB.send(Prompt.text("one").build());
        assertThat(modelB.lastRequest().messages().get(0)).isEqualTo(ModelMessage.system("Be terse."));

        onA.update(ConversationPatch.builder().personality("Be verbose.").build());
        onB.send(Prompt.text("two").build());

        assertThat(modelB.lastRequest().messages().get(0)).isEqualTo(ModelMessage.system("Be verbose."));
        assertThat(onB.info().steering().personality()).isEqualTo("Be verbose.");
    }

    @Test
    void aDeleteOnOneEngineIsSeenByTheOtherWhoseCacheHeldTheConversation() {
        Conversation onA = a.as(caller).create(NewConversation.inWorkspace("ws").personality("Be terse.").build());
        Conversation onB = b.as(caller).get(onA.id());
        onB.send(Prompt.text("one").build());

        onA.delete();

        assertThatThrownBy(() -> onB.send(Prompt.text("two").build()))
                .isInstanceOf(ConversationNotFoundException.class);
        assertThatThrownBy(onB::info).isInstanceOf(ConversationNotFoundException.class);
        assertThat(modelB.callCount()).isEqualTo(1);
    }

    @Test
    void sixteenStreamsStartedOnTwoEnginesAtOnceLetOneRunAndACancelThroughTheOtherEngineStopsIt() throws Exception {
        String words = "word ".repeat(200);
        ScriptedModel slow = ScriptedModel.builder().replyWith(r -> words).chunkDelay(Duration.ofMillis(20)).build();
        a.close();
        b.close();
        a = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", slow)
                .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofMillis(900)).build()).build();
        b = ConversationEngine.builder().store(TestDatabases.postgres()).model("m", slow)
                .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofMillis(900)).build()).build();
        String id = a.as(caller).create(NewConversation.inWorkspace("ws").build()).id();

        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<dev.parley.api.StreamHandle>> futures = new ArrayList<>();
        List<List<Reply>> completions = new ArrayList<>();
        CountDownLatch firstDelta = new CountDownLatch(1);
        for (int i = 0; i < threads; i++) {
            ConversationEngine engine = i % 2 == 0 ? a : b;
            List<Reply> done = new java.util.concurrent.CopyOnWriteArrayList<>();
            completions.add(done);
            futures.add(pool.submit(() -> {
                start.await();
                return engine.as(caller).get(id).stream(Prompt.text("go").build(), new dev.parley.api.StreamListener() {
                    @Override
                    public void onDelta(String delta) {
                        firstDelta.countDown();
                    }

                    @Override
                    public void onComplete(Reply reply) {
                        done.add(reply);
                    }

                    @Override
                    public void onError(RuntimeException error) {
                    }
                });
            }));
        }
        start.countDown();
        dev.parley.api.StreamHandle running = null;
        int runningIndex = -1;
        int locked = 0;
        for (int i = 0; i < threads; i++) {
            try {
                running = futures.get(i).get(30, TimeUnit.SECONDS);
                runningIndex = i;
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(dev.parley.api.ConversationLockedException.class);
                locked++;
            }
        }
        pool.shutdown();
        assertThat(locked).isEqualTo(15);
        assertThat(running).isNotNull();

        // Once the stream is producing, cancel through the engine that does not run it: it reaches the holder
        // through the store.
        assertThat(firstDelta.await(10, TimeUnit.SECONDS)).isTrue();
        ConversationEngine other = runningIndex % 2 == 0 ? b : a;
        other.as(caller).get(id).cancelStream();

        assertThat(running.await(Duration.ofSeconds(10))).isTrue();
        Reply reply = completions.get(runningIndex).get(0);
        assertThat(reply.status()).isEqualTo(dev.parley.api.MessageStatus.CANCELLED);
        assertThat(reply.text().length()).isLessThan(words.length());
        assertThat(a.as(caller).get(id).messages(PageRequest.first()).items().get(1).text()).isEqualTo(reply.text());
    }

    @Test
    void tenThousandConcurrentTurnsOverAHundredConversationsKeepEveryMessageAndExactTotals() throws Exception {
        int conversations = 100;
        int turns = 10_000;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < conversations; i++) {
            ids.add(a.as(caller).create(NewConversation.inWorkspace("ws").build()).id());
        }
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Reply>> futures = new ArrayList<>(turns);
        for (int i = 0; i < turns; i++) {
            int turn = i;
            ConversationEngine engine = turn % 2 == 0 ? a : b;
            futures.add(pool.submit(() -> engine.as(caller).get(ids.get(turn % conversations))
                    .send(Prompt.text("turn " + turn).id("t-" + turn).contextSize(200).build())));
        }
        for (Future<Reply> f : futures) {
            assertThat(f.get(5, TimeUnit.MINUTES).replayed()).isFalse();
        }
        pool.shutdown();
        assertThat(modelA.callCount() + modelB.callCount()).isEqualTo(turns);

        Set<String> promptIds = new HashSet<>();
        for (String id : ids) {
            Conversation c = a.as(caller).get(id);
            List<Message> messages = new ArrayList<>();
            for (int page = 1; page <= 2; page++) {
                messages.addAll(c.messages(PageRequest.of(page, PageRequest.MAX_SIZE)).items());
            }
            assertThat(messages).hasSize(2 * turns / conversations);
            long in = 0;
            long out = 0;
            for (int i = 0; i < messages.size(); i += 2) {
                Message prompt = messages.get(i);
                Message reply = messages.get(i + 1);
                assertThat(prompt.role()).isEqualTo(Role.USER);
                assertThat(prompt.sequence()).isEqualTo(i + 1);
                assertThat(reply.role()).isEqualTo(Role.ASSISTANT);
                assertThat(reply.text()).isEqualTo("re: " + prompt.text());
                assertThat(prompt.id()).isEqualTo("t-" + prompt.text().substring("turn ".length()));
                assertThat(promptIds.add(prompt.id())).as("prompt %s stored once", prompt.id()).isTrue();
                in += reply.usage().tokensIn();
                out += reply.usage().tokensOut();
            }
            ConversationInfo info = c.info();
            assertThat(info.tokensIn()).isEqualTo(in);
            assertThat(info.tokensOut()).isEqualTo(out);
        }
        assertThat(promptIds).hasSize(turns);
    }
}
