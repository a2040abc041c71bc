package dev.parley.core;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ConversationQuery;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ScriptedModel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract as a property: random sequences of create, send, stream, cancel, replay, reuse of an id
 * with another prompt, model failure, patch and delete, run through the engine on the store, each step checked
 * against a simple reference model of what the store must then hold (every conversation's messages in order
 * with their text, status and ids; its totals equal to the sum of its replies' usage; its steering; which
 * conversations a list returns; how many model calls were made). jqwik shrinks a failing sequence to a minimal
 * one. Subclasses run it on other stores; the number of sequences is {@code jqwik.tries.default} (the build
 * sets it, and the reliability profile raises it).
 */
public class StoreContractPropertyTest {
    /** The prompt that makes the model throw. */
    private static final String FAILING_PROMPT = "FAIL: this prompt makes the model throw";
    /** Prompts, with characters a store must keep as they are; the last one makes the model fail. */
    private static final List<String> PROMPTS = List.of(
            "How do I reset my password when the email link has expired?",
            "O'Brien said \"it's fine\"; DROP TABLE parley_message; -- 100% _true_ \\ back",
            "Résumé, naïve café, 東京, emoji 😀 and a tab\tinside",
            "Summarise the last three invoices and tell me which one is overdue",
            "short",
            FAILING_PROMPT);
    private static final List<@Nullable String> PERSONALITIES = java.util.Arrays.asList(
            null, "You are a patient support agent.", "Answer like a pirate; keep it brief.");

    /** The store the engine under test uses; subclasses run the property on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private ConversationStore store;
    private ScriptedModel model;
    private ConversationEngine engine;

    @BeforeProperty
    void open() {
        store = newStore();
        model = ScriptedModel.builder().replyWith(request -> {
            String last = request.messages().get(request.messages().size() - 1).text();
            if (last.startsWith("FAIL")) {
                throw new IllegalStateException("scripted failure");
            }
            return "Here is an answer to " + last.length() + " characters, in a few more words than four.";
        }).build();
        engine = EngineFixture.builder(model, store).build();
    }

    @AfterProperty
    void close() {
        if (engine != null) {
            engine.close(); // and the store with it
        }
    }

    @Property(shrinking = ShrinkingMode.FULL)
    void everySequenceOfOperationsLeavesWhatTheReferenceModelSays(@ForAll("operations") List<Op> operations)
            throws InterruptedException {
        Run run = new Run();
        for (Op op : operations) {
            op.apply(run);
            run.check(op);
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> conversation = Arbitraries.integers().between(0, 3);
        Arbitrary<Integer> prompt = Arbitraries.integers().between(0, PROMPTS.size() - 1);
        Arbitrary<Boolean> flag = Arbitraries.of(true, false);
        Arbitrary<Integer> which = Arbitraries.integers().between(0, 5);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(new Create())),
                Tuple.of(6, Combinators.combine(conversation, prompt, flag, flag).as(Send::new)),
                Tuple.of(2, Combinators.combine(conversation, prompt, Arbitraries.integers().between(1, 4))
                        .as(CancelledStream::new)),
                Tuple.of(3, Combinators.combine(conversation, which, flag, flag).as(Resend::new)),
                Tuple.of(1, Combinators.combine(conversation, which).as(ReplyIdAsPromptId::new)),
                Tuple.of(1, Combinators.combine(conversation,
                        Arbitraries.integers().between(0, PERSONALITIES.size() - 1)).as(Patch::new)),
                Tuple.of(1, conversation.map(Delete::new)));
        return op.list().ofMinSize(1).ofMaxSize(25);
    }

    /** What one stored turn must look like. */
    private record StoredTurn(String promptId, String prompt, String replyId, String reply, MessageStatus status) {
    }

    /** The reference model of one conversation. */
    private static final class Expected {
        final String id;
        final List<StoredTurn> turns = new ArrayList<>();
        /** Ids sent whose turn failed: nothing stored, so a resend tries again. */
        final Map<String, String> failed = new LinkedHashMap<>();
        @Nullable String personality;
        boolean deleted;

        Expected(String id) {
            this.id = id;
        }

        /** Every prompt id this conversation has seen, stored or failed, in order. */
        List<String> knownIds() {
            List<String> ids = new ArrayList<>();
            turns.forEach(t -> ids.add(t.promptId()));
            ids.addAll(failed.keySet());
            return ids;
        }

        @Nullable StoredTurn turn(String promptId) {
            return turns.stream().filter(t -> t.promptId().equals(promptId)).findFirst().orElse(null);
        }
    }

    /** One sequence: its caller, workspace, conversations and the model calls it expects. */
    final class Run {
        final String prefix = UUID.randomUUID().toString().substring(0, 8);
        final String workspace = "ws-" + prefix;
        final Caller caller = Caller.user("alice", EngineFixture.ORG).member(workspace).build();
        final List<Expected> conversations = new ArrayList<>();
        final int callsBefore = model.callCount();
        int expectedCalls;
        int nextId;

        Run() {
            create();
        }

        void create() {
            Conversation c = engine.as(caller).create(NewConversation.inWorkspace(workspace).build());
            conversations.add(new Expected(c.id()));
        }

        Expected pick(int index) {
            return conversations.get(index % conversations.size());
        }

        Conversation handle(Expected e) {
            return engine.as(caller).get(e.id);
        }

        String freshId() {
            return prefix + "-m" + (++nextId);
        }

        /**
         * A turn as the reference model sees it: refused for a deleted conversation; else a model call that fails
         * on the failing prompt (nothing stored, the id remembered as failed) or stores the turn.
         */
        void turn(Expected e, @Nullable String id, String prompt, boolean stream) throws InterruptedException {
            Outcome outcome = stream ? stream(e, id, prompt, Integer.MAX_VALUE) : send(e, id, prompt);
            if (e.deleted) {
                outcome.assertRefused(ConversationNotFoundException.class, null);
                return;
            }
            expectedCalls++;
            if (prompt.equals(FAILING_PROMPT)) {
                outcome.assertRefused(ModelUnavailableException.class, null);
                if (id != null) {
                    e.failed.put(id, prompt);
                }
                return;
            }
            Reply reply = outcome.reply();
            assertThat(reply.replayed()).as("a new turn is not a replay").isFalse();
            assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
            if (id != null) {
                assertThat(reply.promptId()).isEqualTo(id);
                e.failed.remove(id);
            }
            if (stream) {
                assertThat(outcome.streamed()).as("the deltas add up to the reply").isEqualTo(reply.text());
            }
            e.turns.add(new StoredTurn(reply.promptId(), prompt, reply.messageId(), reply.text(), reply.status()));
        }

        Outcome send(Expected e, @Nullable String id, String prompt) {
            Prompt.Builder p = Prompt.text(prompt);
            if (id != null) {
                p.id(id);
            }
            try {
                return Outcome.of(handle(e).send(p.build()));
            } catch (RuntimeException error) {
                return Outcome.of(error);
            }
        }

        /** Streams a prompt, cancelling once {@code cancelAfter} deltas have arrived. */
        Outcome stream(Expected e, @Nullable String id, String prompt, int cancelAfter) throws InterruptedException {
            Prompt.Builder p = Prompt.text(prompt);
            if (id != null) {
                p.id(id);
            }
            Conversation c;
            try {
                c = handle(e);
            } catch (RuntimeException error) {
                return Outcome.of(error);
            }
            Collector collector = new Collector(cancelAfter, c);
            StreamHandle h;
            try {
                h = c.stream(p.build(), collector);
            } catch (RuntimeException error) {
                return Outcome.of(error);
            }
            assertThat(h.await(Duration.ofSeconds(30))).as("the stream ended").isTrue();
            assertThat(collector.completions.size() + collector.errors.size()).as("one terminal event").isEqualTo(1);
            return collector.errors.isEmpty()
                    ? new Outcome(collector.completions.get(0), null, String.join("", collector.deltas))
                    : Outcome.of(collector.errors.get(0));
        }

        /** Checks the whole reference model against the store, after {@code op}. */
        void check(Op op) {
            Set<String> live = new HashSet<>();
            for (Expected e : conversations) {
                if (e.deleted) {
                    Outcome.attempt(() -> handle(e).info()).assertRefused(ConversationNotFoundException.class, null);
                    continue;
                }
                live.add(e.id);
                Conversation c = handle(e);
                ConversationInfo info = c.info();
                List<Message> stored = all(c::messages);
                List<String> expected = new ArrayList<>();
                for (StoredTurn t : e.turns) {
                    expected.add("USER " + t.promptId() + " COMPLETE " + t.prompt());
                    expected.add("ASSISTANT " + t.replyId() + " " + t.status() + " " + t.reply());
                }
                assertThat(stored).as("the messages of %s after %s", e.id, op)
                        .extracting(m -> m.role() + " " + m.id() + " " + m.status() + " " + m.text())
                        .containsExactlyElementsOf(expected);
                for (int i = 0; i < stored.size(); i++) {
                    Message m = stored.get(i);
                    if (i > 0) {
                        assertThat(m.sequence()).as("sequence of message %d", i).isGreaterThan(stored.get(i - 1).sequence());
                    }
                    assertThat(m.tokens()).as("tokens of message %d", i).isPositive();
                    assertThat(m.usage() != null).as("usage only on replies").isEqualTo(m.role() == Role.ASSISTANT);
                }
                long in = 0;
                long out = 0;
                for (Message m : stored) {
                    if (m.usage() != null) {
                        in += m.usage().tokensIn();
                        out += m.usage().tokensOut();
                    }
                }
                assertThat(info.tokensIn()).as("input total of %s after %s", e.id, op).isEqualTo(in);
                assertThat(info.tokensOut()).as("output total of %s after %s", e.id, op).isEqualTo(out);
                assertThat(info.steering().personality()).as("personality of %s", e.id).isEqualTo(e.personality);
            }
            assertThat(all(page -> engine.as(caller).list(ConversationQuery.inWorkspace(workspace, page)))
                    .stream().map(ConversationInfo::id)).as("the workspace's conversations after %s", op)
                    .containsExactlyInAnyOrderElementsOf(live);
            assertThat(model.callCount() - callsBefore).as("model calls after %s", op).isEqualTo(expectedCalls);
        }
    }

    private static <T> List<T> all(Function<PageRequest, dev.parley.api.Page<T>> pages) {
        List<T> items = new ArrayList<>();
        for (int page = 1; ; page++) {
            dev.parley.api.Page<T> p = pages.apply(PageRequest.of(page, PageRequest.MAX_SIZE));
            items.addAll(p.items());
            if (p.items().size() < PageRequest.MAX_SIZE) {
                return items;
            }
        }
    }

    /** A reply (and for a stream the text its deltas added up to), or the error that ended the call. */
    private record Outcome(@Nullable Reply replyOrNull, @Nullable RuntimeException error, @Nullable String streamed) {
        static Outcome of(Reply reply) {
            return new Outcome(reply, null, null);
        }

        static Outcome of(RuntimeException error) {
            return new Outcome(null, error, null);
        }

        /** Runs a call that returns no reply: no error, or the error it threw. */
        static Outcome attempt(Runnable call) {
            try {
                call.run();
                return new Outcome(null, null, null);
            } catch (RuntimeException error) {
                return of(error);
            }
        }

        Reply reply() {
            if (error != null) {
                throw new AssertionError("expected a reply, got " + error, error);
            }
            assertThat(replyOrNull).as("a reply").isNotNull();
            return replyOrNull;
        }

        void assertRefused(Class<? extends RuntimeException> type, @Nullable String field) {
            assertThat(error).as("expected %s, got %s", type.getSimpleName(), replyOrNull).isInstanceOf(type);
            if (field != null) {
                assertThat(((InvalidRequestException) error).field()).isEqualTo(field);
            }
        }
    }

    /** Records a stream's events, and cancels it once it has seen a number of deltas. */
    private static final class Collector implements StreamListener {
        final List<String> deltas = new CopyOnWriteArrayList<>();
        final List<Reply> completions = new CopyOnWriteArrayList<>();
        final List<RuntimeException> errors = new CopyOnWriteArrayList<>();
        private final int cancelAfter;
        private final Conversation conversation;

        Collector(int cancelAfter, Conversation conversation) {
            this.cancelAfter = cancelAfter;
            this.conversation = conversation;
        }

        @Override
        public void onDelta(String delta) {
            deltas.add(delta);
            if (deltas.size() == cancelAfter) {
                conversation.cancelStream();
            }
        }

        @Override
        public void onComplete(Reply reply) {
            completions.add(reply);
        }

        @Override
        public void onError(RuntimeException error) {
            errors.add(error);
        }
    }

    /** One step of a sequence; {@code toString} is what a shrunk failure shows. */
    interface Op {
        void apply(Run run) throws InterruptedException;
    }

    /** Creates another conversation in the sequence's workspace. */
    record Create() implements Op {
        @Override
        public void apply(Run run) {
            run.create();
        }
    }

    /** Sends or streams a prompt, with a fresh client id or none (the engine then generates one). */
    record Send(int conversation, int prompt, boolean clientId, boolean stream) implements Op {
        @Override
        public void apply(Run run) throws InterruptedException {
            run.turn(run.pick(conversation), clientId ? run.freshId() : null, PROMPTS.get(prompt), stream);
        }
    }

    /** Streams a prompt and cancels the stream after a few deltas: the prompt and those deltas are stored. */
    record CancelledStream(int conversation, int prompt, int afterDeltas) implements Op {
        @Override
        public void apply(Run run) throws InterruptedException {
            Expected e = run.pick(conversation);
            String id = run.freshId();
            String text = PROMPTS.get(prompt);
            Outcome outcome = run.stream(e, id, text, afterDeltas);
            if (e.deleted) {
                outcome.assertRefused(ConversationNotFoundException.class, null);
                return;
            }
            run.expectedCalls++;
            if (text.equals(FAILING_PROMPT)) {
                outcome.assertRefused(ModelUnavailableException.class, null);
                e.failed.put(id, text);
                return;
            }
            Reply reply = outcome.reply();
            assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(reply.text()).as("the deltas delivered before the cancel").isEqualTo(outcome.streamed());
            assertThat(ScriptedModel.chunksOf(reply.text())).hasSize(afterDeltas);
            e.turns.add(new StoredTurn(id, text, reply.messageId(), reply.text(), MessageStatus.CANCELLED));
        }
    }

    /**
     * Sends (or streams) again an id the conversation has seen: with its prompt, a stored turn is replayed without
     * a model call and a failed one tries again; with another prompt, a stored turn's id is refused naming
     * {@code id}.
     */
    record Resend(int conversation, int which, boolean samePrompt, boolean stream) implements Op {
        @Override
        public void apply(Run run) throws InterruptedException {
            Expected e = run.pick(conversation);
            List<String> ids = e.knownIds();
            if (ids.isEmpty()) {
                return;
            }
            String id = ids.get(which % ids.size());
            StoredTurn stored = e.turn(id);
            if (stored == null) {
                // Failed before: nothing was stored, so the same prompt is a new turn.
                run.turn(e, id, e.failed.get(id), stream);
                return;
            }
            String prompt = samePrompt ? stored.prompt()
                    : PROMPTS.get((PROMPTS.indexOf(stored.prompt()) + 1) % PROMPTS.size());
            Outcome outcome = stream ? run.stream(e, id, prompt, Integer.MAX_VALUE) : run.send(e, id, prompt);
            if (e.deleted) {
                outcome.assertRefused(ConversationNotFoundException.class, null);
            } else if (!samePrompt) {
                outcome.assertRefused(InvalidRequestException.class, "id");
            } else {
                Reply reply = outcome.reply();
                assertThat(reply.replayed()).as("a replay of %s", id).isTrue();
                assertThat(reply.text()).isEqualTo(stored.reply());
                assertThat(reply.messageId()).isEqualTo(stored.replyId());
                if (stream) {
                    assertThat(outcome.streamed()).isEqualTo(stored.reply());
                }
            }
        }
    }

    /** Sends a prompt whose id is a stored reply's: refused naming {@code id}, before any model call. */
    record ReplyIdAsPromptId(int conversation, int which) implements Op {
        @Override
        public void apply(Run run) {
            Expected e = run.pick(conversation);
            if (e.turns.isEmpty()) {
                return;
            }
            String replyId = e.turns.get(which % e.turns.size()).replyId();
            Outcome outcome = run.send(e, replyId, PROMPTS.get(0));
            outcome.assertRefused(e.deleted ? ConversationNotFoundException.class : InvalidRequestException.class,
                    e.deleted ? null : "id");
        }
    }

    /** Sets or clears the personality. */
    record Patch(int conversation, int personality) implements Op {
        @Override
        public void apply(Run run) {
            Expected e = run.pick(conversation);
            String value = PERSONALITIES.get(personality);
            Outcome outcome = Outcome.attempt(() ->
                    run.handle(e).update(ConversationPatch.builder().personality(value).build()));
            if (e.deleted) {
                outcome.assertRefused(ConversationNotFoundException.class, null);
            } else {
                assertThat(outcome.error()).as("patch").isNull();
                e.personality = value;
            }
        }
    }

    /** Deletes the conversation: it is gone from reads, lists and turns. */
    record Delete(int conversation) implements Op {
        @Override
        public void apply(Run run) {
            Expected e = run.pick(conversation);
            Outcome outcome = Outcome.attempt(() -> run.handle(e).delete());
            if (e.deleted) {
                outcome.assertRefused(ConversationNotFoundException.class, null);
            } else {
                assertThat(outcome.error()).as("delete").isNull();
                e.deleted = true;
            }
        }
    }
}
