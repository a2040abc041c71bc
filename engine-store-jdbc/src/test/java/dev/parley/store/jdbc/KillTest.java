package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.core.IdempotencyStage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a child JVM ({@link TurnsUntilKilled}) with SIGKILL ({@link Process#destroyForcibly()}) and checks what
 * the store holds afterwards: every turn the child had acknowledged, over repeated kills; and, after a kill in
 * the middle of a send, that the interrupted message id is free again within the claim's lease, so that a resend
 * gets a fresh answer. Subclasses name the database.
 */
abstract class KillTest {
    private static final int ROUNDS = 5;
    private static final int ACKS_BEFORE_KILL = 25;

    @TempDir
    Path dir;

    /** The store argument of {@link TurnsUntilKilled}: {@code h2:<file>} or {@code postgresql:<url>}. */
    protected abstract String storeSpec();

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void noAcknowledgedTurnIsLostWhenTheJvmIsKilled() throws Exception {
        String spec = storeSpec();
        Map<String, List<String>> acknowledged = new HashMap<>();
        for (int round = 1; round <= ROUNDS; round++) {
            List<String> acks = new ArrayList<>();
            String conversation = runAndKill(spec, "round" + round, "acks", "child-" + round, line -> {
                if (line.startsWith("ack ")) {
                    acks.add(line.substring("ack ".length()));
                }
                return acks.size() >= ACKS_BEFORE_KILL;
            });
            assertThat(acks).as("acknowledged turns of round %d (see %s)", round, dir.resolve("child-" + round + ".err"))
                    .hasSize(ACKS_BEFORE_KILL);
            acknowledged.put(conversation, acks);
        }

        try (JdbcConversationStore store = TurnsUntilKilled.store(spec)) {
            for (Map.Entry<String, List<String>> e : acknowledged.entrySet()) {
                Map<String, String> stored = storedTurns(store, e.getKey());
                for (String id : e.getValue()) {
                    assertThat(stored).as("acknowledged turn %s", id).containsEntry(id, "turn " + id + " -> echo: turn " + id);
                }
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aMessageIdInterruptedByTheJvmsDeathIsFreeAgainWithinTheClaimLeaseAndTheResendGetsAFreshAnswer()
            throws Exception {
        String spec = storeSpec();
        String conversation = runAndKill(spec, "crash", "hang", "child-hang", line -> line.equals("calling"));

        ScriptedModel model = ScriptedModel.echo();
        try (ConversationEngine engine = ConversationEngine.builder()
                .store(TurnsUntilKilled.store(spec))
                .model("scripted", model)
                .defaultModel("scripted")
                .build()) {
            // The dead JVM's claim of crash-1 is pending, and nobody renews it any more.
            long started = System.nanoTime();
            Reply reply = engine.as(Caller.user("alice", "org").member("ws").build()).get(conversation)
                    .send(Prompt.text("turn crash-1").id("crash-1").build());
            Duration waited = Duration.ofNanos(System.nanoTime() - started);

            assertThat(reply.replayed()).isFalse();
            assertThat(reply.text()).isEqualTo("echo: turn crash-1");
            assertThat(model.callCount()).isEqualTo(1);
            // Within the lease (10 s), not the replay wait (60 s) that ends in CONVERSATION_LOCKED: the claim was
            // free once its lease ran out unrenewed. The margin covers a slow machine.
            assertThat(waited).isLessThan(dev.parley.api.Timeouts.DEFAULT_CLAIM_LEASE.plusSeconds(10));
            assertThat(storedTurns(engine, conversation)).containsExactly(Map.entry("crash-1", "turn crash-1 -> echo: turn crash-1"));
        }
    }

    /**
     * Starts the child, feeds its output lines to {@code killWhen} until it answers true, kills the child and
     * waits for it to die; returns the conversation it created.
     */
    private String runAndKill(String spec, String prefix, String mode, String name, Predicate<String> killWhen)
            throws IOException, InterruptedException {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TurnsUntilKilled.class.getName(), spec, prefix, mode)
                .redirectError(dir.resolve(name + ".err").toFile())
                .start();
        String conversation = null;
        boolean killed = false;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while (!killed && (line = out.readLine()) != null) {
                if (line.startsWith("conversation ")) {
                    conversation = line.substring("conversation ".length());
                } else if (killWhen.test(line)) {
                    child.destroyForcibly();
                    killed = true;
                }
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(killed).as("the child reached the point of its kill (see %s)", dir.resolve(name + ".err")).isTrue();
        assertThat(conversation).isNotNull();
        return conversation;
    }

    private static Map<String, String> storedTurns(ConversationEngine engine, String conversationId) throws IOException {
        return storedTurns(engine.as(Caller.user("alice", "org").member("ws").build()).get(conversationId)::messages);
    }

    private static Map<String, String> storedTurns(JdbcConversationStore store, String conversationId) throws IOException {
        return storedTurns(page -> store.messages(conversationId, page));
    }

    /** Each stored prompt's id with its text and its reply's text. */
    private static Map<String, String> storedTurns(
            java.util.function.Function<PageRequest, dev.parley.api.Page<Message>> pages) {
        List<Message> all = new ArrayList<>();
        for (int page = 1; ; page++) {
            List<Message> items = pages.apply(PageRequest.of(page, PageRequest.MAX_SIZE)).items();
            all.addAll(items);
            if (items.size() < PageRequest.MAX_SIZE) {
                break;
            }
        }
        Map<String, String> turns = new HashMap<>();
        for (int i = 0; i + 1 < all.size(); i += 2) {
            Message prompt = all.get(i);
            Message reply = all.get(i + 1);
            assertThat(prompt.role()).isEqualTo(Role.USER);
            assertThat(reply.role()).isEqualTo(Role.ASSISTANT);
            turns.put(prompt.id(), prompt.text() + " -> " + reply.text());
        }
        return turns;
    }
}
