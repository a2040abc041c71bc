package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.core.IdempotencyStage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a child JVM ({@link TurnsUntilKilled}) with SIGKILL ({@link Process#destroyForcibly()}) and checks what
 * the store holds afterwards: every turn the child had acknowledged, over repeated kills; and, after a kill in
 * the middle of a send, that the interrupted message id is free again within the claim's lease, so that a resend
 * gets a fresh answer; and, for metered turns killed mid-run, that every acknowledged charge is on the ledger, the
 * balance is what the ledger says, and the dead engine's credit hold lapses with its lease. Subclasses name the
 * database.
 */
abstract class KillTest {
    private static final int ROUNDS = 5;
    private static final int ACKS_BEFORE_KILL = 25;
    private static final int CREDIT_ROUNDS = 3;

    @TempDir
    Path dir;

    /** The store argument of {@link TurnsUntilKilled}: {@code h2:<file>} or {@code postgresql:<url>}. */
    protected abstract String storeSpec();

    /**
     * Whether a killed engine's credit holds stay in the database until their lease passes (true), or died with its
     * JVM, which kept them for an embedded database it opened itself (false).
     */
    protected boolean holdsOutliveTheirEngine() {
        return true;
    }

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
     * Kills a child running metered turns on an organization's account ({@link TurnsUntilKilled}'s {@code credits}
     * mode), in the middle of its run, several times, and then checks the account: every turn the child had
     * acknowledged has its CHARGE entry on the ledger (by its message id), of the credits its reply said, and every
     * CHARGE is of a stored turn, once; the balance is the opening balance minus the stored charges, which is the
     * sum of the ledger, and is not negative; the usage ledger has the same credits; and once the claim lease (the
     * hold's lease) has passed, nothing is reserved on the account: the hold of the turn each kill interrupted (in
     * its model call, so with its hold taken) lapsed, though its engine never released it.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyAcknowledgedChargeIsOnTheLedgerAndTheKilledEnginesHoldLapses() throws Exception {
        String spec = storeSpec();
        String org = "org-" + UUID.randomUUID();
        BigDecimal opening = new BigDecimal("1000");
        String accountId;
        try (JdbcConversationStore store = TurnsUntilKilled.store(spec)) {
            accountId = store.openAccount("acct-" + UUID.randomUUID(), AccountOwner.organization(org), Instant.now()).id();
            store.post("top-up-" + UUID.randomUUID(), accountId, LedgerEntry.Kind.TOP_UP, opening, "opening funds",
                    Instant.now());
        }
        Map<String, BigDecimal> acknowledged = new HashMap<>();
        List<String> conversations = new ArrayList<>();
        Instant[] calling = new Instant[1];
        for (int round = 1; round <= CREDIT_ROUNDS; round++) {
            Map<String, BigDecimal> acks = new HashMap<>();
            // Killed in the model call of the turn after the last acknowledged one: its claim and hold are live.
            conversations.add(runAndKill(spec, "paid" + round, "credits", "credits-" + round, line -> {
                if (line.startsWith("ack ")) {
                    String[] parts = line.split(" ");
                    acks.put(parts[1], new BigDecimal(parts[2]));
                } else if (line.equals("calling") && acks.size() >= ACKS_BEFORE_KILL) {
                    calling[0] = Instant.now();
                    return true;
                }
                return false;
            }, org));
            assertThat(acks).as("acknowledged turns of round %d (see %s)", round,
                    dir.resolve("credits-" + round + ".err")).hasSize(ACKS_BEFORE_KILL);
            acknowledged.putAll(acks);
        }
        // The last child's hold, taken before its model was called, runs out within one lease of that call.
        Thread.sleep(Math.max(0, Duration.between(Instant.now(),
                calling[0].plus(TurnsUntilKilled.CREDITS_LEASE).plusMillis(500)).toMillis()));

        try (JdbcConversationStore store = TurnsUntilKilled.store(spec)) {
            List<LedgerEntry> ledger = new ArrayList<>();
            for (int page = 1; ; page++) {
                List<LedgerEntry> items = store.ledger(accountId, PageRequest.of(page, PageRequest.MAX_SIZE)).items();
                ledger.addAll(items);
                if (items.size() < PageRequest.MAX_SIZE) {
                    break;
                }
            }
            Map<String, BigDecimal> charges = new HashMap<>();
            for (LedgerEntry e : ledger) {
                if (e.kind() == LedgerEntry.Kind.CHARGE) {
                    assertThat(charges.put(e.messageId(), e.amount().negate())).as("one charge of %s", e.messageId())
                            .isNull();
                }
            }
            acknowledged.forEach((id, credits) -> {
                assertThat(charges).as("the charge of acknowledged turn %s", id).containsKey(id);
                assertThat(charges.get(id)).as("the charge of %s", id).isEqualByComparingTo(credits).isPositive();
            });
            Set<String> stored = new HashSet<>();
            for (String conversation : conversations) {
                stored.addAll(storedTurns(store, conversation).keySet());
            }
            assertThat(stored).as("every charge is of a stored turn").containsAll(charges.keySet());
            assertThat(charges.keySet()).as("every stored turn was charged").containsAll(stored);

            BigDecimal charged = charges.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
            BigDecimal sumOfLedger = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
            CreditAccount account = store.account(accountId, Instant.now()).orElseThrow();
            assertThat(account.balance()).isEqualByComparingTo(opening.subtract(charged))
                    .isEqualByComparingTo(sumOfLedger)
                    .isGreaterThanOrEqualTo(BigDecimal.ZERO);
            assertThat(account.reserved()).as("reserved once the killed engines' hold leases passed")
                    .isEqualByComparingTo(BigDecimal.ZERO);
            if (holdsOutliveTheirEngine()) {
                // Not released, lapsed: when the last kill came, its turn's hold was live and nobody released it.
                assertThat(store.account(accountId, calling[0]).orElseThrow().reserved())
                        .as("reserved when the last child was killed").isPositive();
            } else {
                // The engine's JVM kept the holds of its embedded database: they died with it.
                assertThat(store.account(accountId, calling[0]).orElseThrow().reserved())
                        .as("reserved once the killed engine's JVM was gone").isEqualByComparingTo(BigDecimal.ZERO);
            }

            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            List<UsageRow> usage = store.usage(org, UsageQuery.by(UsageQuery.GroupBy.MODEL, today.minusDays(1),
                    today.plusDays(1)), PageRequest.of(1, PageRequest.MAX_SIZE)).items();
            assertThat(usage.stream().mapToLong(UsageRow::requests).sum()).as("usage entries").isEqualTo(stored.size());
            assertThat(usage.stream().map(UsageRow::credits).reduce(BigDecimal.ZERO, BigDecimal::add))
                    .as("the usage ledger's credits").isEqualByComparingTo(charged);
        }
    }

    /**
     * Starts the child, feeds its output lines to {@code killWhen} until it answers true, kills the child and
     * waits for it to die; returns the conversation it created.
     */
    private String runAndKill(String spec, String prefix, String mode, String name, Predicate<String> killWhen,
                              String... more) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TurnsUntilKilled.class.getName(), spec, prefix, mode));
        command.addAll(List.of(more));
        Process child = new ProcessBuilder(command)
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
        assertThat(killed).as("the child reached the point of its kill; its standard error:%n%s",
                childErrors(dir.resolve(name + ".err"))).isTrue();
        assertThat(conversation).isNotNull();
        return conversation;
    }

    /** The end of a child's standard error, for a failure's message (the test's directory is deleted after it). */
    private static String childErrors(Path file) {
        try {
            String all = java.nio.file.Files.readString(file, StandardCharsets.UTF_8);
            return all.length() <= 4000 ? all : all.substring(all.length() - 4000);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
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
