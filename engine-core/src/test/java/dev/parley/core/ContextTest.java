package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.TurnRecord;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.List;

import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

public class ContextTest {
    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private final ScriptedModel model = ScriptedModel.echo();
    private final CountingStore store = new CountingStore(newStore());
    /** One token per word, so budgets in these tests are easy to reason about. */
    private final ConversationEngine engine = EngineFixture.builder(model, store)
            .tokenCounter(text -> text.isBlank() ? 0 : text.trim().split("\\s+").length)
            .build();

    @AfterEach
    void close() {
        engine.close();
    }

    private Conversation newConversation() {
        return engine.as(member("alice")).create(NewConversation.inWorkspace(EngineFixture.WS).build());
    }

    @Test
    void additionalContextReachesOnlyTheTurnThatCarriesIt() {
        Conversation c = newConversation();

        c.send(Prompt.text("What is my favourite number?").additionalContext("My favourite number is 444").build());
        assertThat(model.lastRequestTexts()).containsExactly(
                "My favourite number is 444",
                "What is my favourite number?");
        assertThat(model.lastRequest().messages().get(0).role()).isEqualTo(ModelMessage.Role.SYSTEM);

        c.send(Prompt.text("And now?").build());
        assertThat(model.lastRequestTexts())
                .containsExactly("What is my favourite number?", "echo: What is my favourite number?", "And now?")
                .noneMatch(t -> t.contains("444"));
        assertThat(c.messages(dev.parley.api.PageRequest.first()).items())
                .extracting(Message::text)
                .noneMatch(t -> t.contains("444"));
    }

    @Test
    void historyIsSentOldestFirstBetweenSteeringAndPrompt() {
        Conversation c = engine.as(member("alice"))
                .create(NewConversation.inWorkspace(EngineFixture.WS).personality("Be terse.").build());
        c.send(Prompt.text("one").build());
        c.send(Prompt.text("two").build());
        c.send(Prompt.text("three").additionalContext("ctx").build());

        assertThat(model.lastRequest().messages()).containsExactly(
                ModelMessage.system("Be terse."),
                ModelMessage.user("one"), ModelMessage.assistant("echo: one"),
                ModelMessage.user("two"), ModelMessage.assistant("echo: two"),
                ModelMessage.system("ctx"),
                ModelMessage.user("three"));
    }

    @Test
    void smallContextSizeDropsTheOldestTurnsAndKeepsTheNewest() {
        Conversation c = newConversation();
        for (int i = 1; i <= 6; i++) {
            c.send(Prompt.text("turn " + i).build()); // user 2 tokens, reply "echo: turn i" 3 tokens
        }
        // Budget 12: prompt "last one" takes 2, leaving 10: two whole turns of 5 tokens fit, a third does not.
        c.send(Prompt.text("last one").contextSize(12).build());

        assertThat(model.lastRequestTexts()).containsExactly(
                "turn 5", "echo: turn 5", "turn 6", "echo: turn 6", "last one");
    }

    @Test
    void aTurnIsKeptOrDroppedWithItsReply() {
        Conversation c = newConversation();
        c.send(Prompt.text("a b c").build());      // 3 + reply "echo: a b c" 4 = 7
        c.send(Prompt.text("d").build());          // 1 + reply "echo: d" 2 = 3
        // Budget after prompt (1): 5. The newest turn (3) fits; the older one (7) would need 10: dropped whole,
        // even though its reply alone (4) would still fit.
        c.send(Prompt.text("e").contextSize(6).build());

        assertThat(model.lastRequestTexts()).containsExactly("d", "echo: d", "e");
    }

    @Test
    void promptAndAdditionalContextCountAgainstTheBudget() {
        Conversation c = newConversation();
        c.send(Prompt.text("x").build()); // 1 + 2 = 3
        c.send(Prompt.text("y z").contextSize(5).additionalContext("one two three").build());
        // 5 - 2 (prompt) - 3 (context) = 0 left: no history.
        assertThat(model.lastRequestTexts()).containsExactly("one two three", "y z");
    }

    @ParameterizedTest(name = "history of {0} messages")
    @ValueSource(ints = {10, 10_000})
    void historyIsReadInOneQuerySizedFromTheBudget(int historyMessages) {
        Conversation c = newConversation();
        fillHistory(c.id(), historyMessages / 2);
        store.resetCounts();

        c.send(Prompt.text("now").contextSize(41).build()); // budget 40: four turns of 10 tokens

        long sent = model.lastRequest().messages().size() - 1;
        assertThat(sent).isEqualTo(Math.min(8, historyMessages));
        assertThat(store.historyReads.get()).isEqualTo(1);
        assertThat(store.historyMessagesRead.get()).isLessThanOrEqualTo(sent + 2);
    }

    @ParameterizedTest(name = "history of {0} turns")
    @ValueSource(ints = {5, 1_000})
    void realisticMessagesWithABudgetOfAboutTwentyAreReadInOneQueryOfAboutThatMany(int turns) {
        // Forty-word messages (forty tokens each with this test's counter), and a budget for twenty of them.
        Conversation c = newConversation();
        String forty = String.join(" ", java.util.Collections.nCopies(40, "word"));
        Instant at = Instant.parse("2025-01-01T00:00:00Z");
        for (int i = 0; i < turns; i++) {
            Message user = new Message("u" + i, c.id(), 0, Role.USER, forty, 40, null, null, null,
                    MessageStatus.COMPLETE, at, null);
            Message reply = new Message("a" + i, c.id(), 0, Role.ASSISTANT, forty, 40, EngineFixture.MODEL, null, null,
                    MessageStatus.COMPLETE, at, new Usage(40, 40));
            store.delegate().commitTurn(new TurnRecord(c.id(), "u" + i, user, reply, new Usage(40, 40), true, at));
        }
        store.resetCounts();

        c.send(Prompt.text(forty).contextSize(40 + 20 * 40).build());

        long sent = model.lastRequest().messages().size() - 1;
        assertThat(sent).isEqualTo(Math.min(20, 2L * turns));
        assertThat(store.historyReads.get()).isEqualTo(1);
        assertThat(store.historyMessagesRead.get()).isLessThanOrEqualTo(Math.min(2L * turns, 20 + 20 / 4 + 2));
    }

    @Test
    void historyMuchSmallerThanThePromptTakesAFewReadsNotOnePerPage() {
        // 10,000 messages of 5 tokens, a prompt of 40 and a budget of 20,000: the first read, sized for
        // 40-token messages, is short; the next is sized from what is left and what was read.
        Conversation c = newConversation();
        fillHistory(c.id(), 5_000);
        store.resetCounts();

        c.send(Prompt.text(String.join(" ", java.util.Collections.nCopies(40, "word"))).contextSize(20_040).build());

        assertThat(model.lastRequest().messages().size() - 1).isEqualTo(4_000);
        assertThat(store.historyReads.get()).isLessThanOrEqualTo(3);
        assertThat(store.historyMessagesRead.get()).isLessThanOrEqualTo(4_000 + 4_000 / 4 + 2);
    }

    @Test
    void estimatedInputCountsSteeringHistoryContextAndPromptOfTheRequestTheModelReceived() {
        Conversation c = engine.as(member("alice"))
                .create(NewConversation.inWorkspace(EngineFixture.WS).personality("Be terse.").build());
        assertThat(c.send(Prompt.text("one").build()).usage()).isEqualTo(new Usage(2 + 1, 2));

        Usage second = c.send(Prompt.text("two three").additionalContext("ctx").build()).usage();

        // system 2 + history (1 + 2) + context 1 + prompt 2
        assertThat(second).isEqualTo(new Usage(8, 3));
        Message storedPrompt = c.messages(dev.parley.api.PageRequest.first()).items().get(2);
        assertThat(storedPrompt.tokens()).isEqualTo(2);
        assertThat(c.info().tokensIn()).isEqualTo(3 + 8);
    }

    @Test
    void storedTokenCountsAreUsedInsteadOfCountingHistoryAgain() {
        Conversation c = newConversation();
        fillHistory(c.id(), 3); // each message claims 5 tokens in the store, whatever its text
        c.send(Prompt.text("now").contextSize(21).build()); // 20 left: two turns of 10
        assertThat(model.lastRequest().messages()).hasSize(5);
    }

    /** Stores {@code turns} turns directly, each message with 5 stored tokens. */
    private void fillHistory(String conversationId, int turns) {
        Instant at = Instant.parse("2025-01-01T00:00:00Z");
        for (int i = 0; i < turns; i++) {
            Message user = new Message("u" + i, conversationId, 0, Role.USER, "question number " + i, 5, null, null,
                    null, MessageStatus.COMPLETE, at, null);
            Message reply = new Message("a" + i, conversationId, 0, Role.ASSISTANT, "answer number " + i, 5,
                    EngineFixture.MODEL, null, null, MessageStatus.COMPLETE, at, new Usage(10, 5));
            store.delegate().commitTurn(new TurnRecord(conversationId, "u" + i, user, reply, new Usage(10, 5), true, at));
        }
        assertThat(store.delegate().messages(conversationId, dev.parley.api.PageRequest.of(1, 1)).totalElements())
                .isEqualTo(turns * 2L);
        List<Message> newest = store.delegate().recentMessages(conversationId, Long.MAX_VALUE, 1);
        if (turns > 0) {
            assertThat(newest.get(0).text()).isEqualTo("answer number " + (turns - 1));
        }
    }
}
