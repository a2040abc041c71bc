package dev.parley.store.jdbc;

import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a child JVM ({@link KilledAtRandom}: three threads of metered sends and streams, one per conversation) with
 * SIGKILL at random moments, again and again ({@code parley.kills} times: 20 in the default build, 200 in
 * {@code -Preliability}), and after each kill checks the store with a fresh engine: every turn the child
 * acknowledged is stored once with its reply; every turn the kill interrupted is, once its lease has passed,
 * either replayed (it had committed before the child could say so) or answered afresh by one model call, and then
 * stored once; nothing of a refused turn is stored; every conversation's messages come in prompt / reply pairs
 * with totals equal to the sum of their usage; every stored turn is charged once, the balance is the opening funds
 * less the charges, the sum of the ledger and not negative, and nothing stays reserved; and a stream on every
 * conversation succeeds, so no stream lock outlived its lease. Subclasses name the database.
 */
abstract class RandomKillTest {
    static final int KILLS = Integer.getInteger("parley.kills", 20);
    private static final BigDecimal OPENING = new BigDecimal("1000000");
    private static final int CONVERSATIONS = 3;

    @TempDir
    Path dir;

    /** Every line the children printed, each after its round, with the seed first: what a failure is read from. */
    private Path transcript;

    /** The store argument of {@link KilledAtRandom}: {@code h2:<file>} or {@code postgresql:<url>}. */
    protected abstract String storeSpec();

    /** A name for the summary file. */
    protected abstract String name();

    @Test
    @Timeout(value = 90, unit = TimeUnit.MINUTES)
    void afterEveryRandomKillTheStoreIsConsistentAndEveryAcknowledgedTurnIsStoredOnce() throws Exception {
        String spec = storeSpec();
        String org = "org-" + UUID.randomUUID();
        long seed = Long.getLong("parley.kills.seed", System.nanoTime());
        Random random = new Random(seed);
        List<String> conversations = new ArrayList<>();
        String accountId;
        try (ConversationEngine engine = KilledAtRandom.engine(TurnsUntilKilled.store(spec), KilledAtRandom.model(Duration.ZERO))) {
            CreditAccount account = engine.credits().open(AccountOwner.organization(org));
            engine.credits().topUp(account.id(), OPENING, "kill test funds");
            accountId = account.id();
            for (int i = 0; i < CONVERSATIONS; i++) {
                conversations.add(engine.as(KilledAtRandom.caller(org)).create(NewConversation.inWorkspace(
                        KilledAtRandom.WORKSPACE).build()).id());
            }
        }

        Map<String, String> stored = new HashMap<>(); // every turn that must be stored: id -> reply text
        Set<String> refused = new HashSet<>();
        int interruptedTotal = 0;
        int replayedAfterKill = 0;
        int answeredAfresh = 0;
        long acknowledgedTotal = 0;
        long checks = 0;
        Path reports = Path.of("target", "reliability");
        Files.createDirectories(reports);
        transcript = reports.resolve("kills-" + name() + ".log");
        Files.writeString(transcript, "seed " + seed + System.lineSeparator(), StandardCharsets.UTF_8);
        ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
        try {
            for (int round = 1; round <= KILLS; round++) {
                Round r = runAndKill(spec, org, "k" + round, random.nextLong(), conversations, killer,
                        random.nextInt(9), random.nextInt(20));
                if (spec.startsWith("h2:")) { // the file as the kill left it, before anything opens it
                    Files.copy(Path.of(spec.substring(3) + ".mv.db"), reports.resolve("kills-" + name() + "-killed.mv.db"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                acknowledgedTotal += r.acknowledged.size();
                stored.putAll(r.acknowledged);
                refused.addAll(r.refused);
                Set<String> interrupted = new HashSet<>(r.begun.keySet());
                interrupted.removeAll(r.acknowledged.keySet());
                interrupted.removeAll(r.refused);
                interruptedTotal += interrupted.size();

                ScriptedModel model = KilledAtRandom.model(Duration.ZERO);
                try (JdbcConversationStore store = TurnsUntilKilled.store(spec);
                     ConversationEngine engine = KilledAtRandom.engine(store, model)) {
                    // Every acknowledged turn survived the kill itself, before anything is resent.
                    Set<String> survived = new HashSet<>();
                    for (String c : conversations) {
                        Pages.all(engine.as(KilledAtRandom.caller(org)).get(c)::messages).forEach(m -> survived.add(m.id()));
                    }
                    Set<String> lost = new HashSet<>(r.acknowledged.keySet());
                    lost.removeAll(survived);
                    if (!lost.isEmpty() && spec.startsWith("h2:")) {
                        store.close();
                        Files.copy(Path.of(spec.substring(3) + ".mv.db"), reports.resolve("kills-" + name() + "-round"
                                + round + ".mv.db"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    assertThat(lost).as("round %d: acknowledged turns lost by the kill, before any resend", round)
                            .isEmpty();
                    // What the kill interrupted: replayed if it had committed, else answered afresh, once its lease
                    // (or its stream lock's) has passed.
                    for (String id : interrupted) {
                        Reply reply = KilledAtRandom.resend(engine, org, r.begun.get(id), id);
                        assertThat(reply.text()).as("round %d: the reply of interrupted %s", round, id)
                                .isEqualTo(expectedReply(id));
                        if (reply.replayed()) {
                            replayedAfterKill++;
                        } else {
                            answeredAfresh++;
                        }
                        stored.put(id, reply.text());
                    }
                    assertThat(model.callCount()).as("round %d: model calls for %d interrupted turns", round,
                            interrupted.size()).isLessThanOrEqualTo(interrupted.size());
                    checks += checkConversations(engine, org, conversations, stored, refused, round);
                    // Nothing the dead engine reserved outlives the lease.
                    Thread.sleep(Math.max(0, Duration.between(java.time.Instant.now(),
                            r.killedAt.plus(KilledAtRandom.LEASE).plusMillis(300)).toMillis()));
                    checks += checkAccount(engine, store, accountId, stored.keySet(), round);
                }
            }
            // Every conversation streams again: no lock was left behind for good.
            ScriptedModel model = KilledAtRandom.model(Duration.ZERO);
            try (JdbcConversationStore store = TurnsUntilKilled.store(spec);
                 ConversationEngine engine = KilledAtRandom.engine(store, model)) {
                for (String c : conversations) {
                    String id = "after-" + UUID.randomUUID();
                    StoredStream s = new StoredStream();
                    assertThat(engine.as(KilledAtRandom.caller(org)).get(c)
                            .stream(Prompt.text(KilledAtRandom.prompt(id)).id(id).build(), s).await(Duration.ofSeconds(30)))
                            .isTrue();
                    assertThat(s.error).as("a stream on %s after the kills", c).isNull();
                    stored.put(id, s.reply.text());
                }
                checks += checkConversations(engine, org, conversations, stored, refused, KILLS + 1);
                checks += checkAccount(engine, store, accountId, stored.keySet(), KILLS + 1);
            }
        } finally {
            killer.shutdownNow();
        }
        String summary = String.format("kills on %s: %d SIGKILLs of a JVM running 3 threads of metered sends and streams"
                        + " (seed %d)%nacknowledged turns: %d; interrupted turns: %d (%d had committed and replayed, %d "
                        + "answered afresh); refused (a dead engine's lock): %d%nturns stored at the end: %d%n"
                        + "invariants checked: %d%nviolations found: 0%n", name(), KILLS, seed, acknowledgedTotal,
                interruptedTotal, replayedAfterKill, answeredAfresh, refused.size(), stored.size(), checks);
        Files.writeString(reports.resolve("kills-" + name() + ".txt"), summary, StandardCharsets.UTF_8);
        assertThat(acknowledgedTotal).as("turns acknowledged over the kills").isPositive();
    }

    private static String expectedReply(String id) {
        return "Reply to " + id + ": sunny in the morning, trains on time, rain later in the evening.";
    }

    /** Checks every conversation against the turns that must be stored; returns the invariants checked. */
    private static long checkConversations(ConversationEngine engine, String org, List<String> conversations,
                                           Map<String, String> stored, Set<String> refused, int round) {
        long checks = 0;
        Set<String> seen = new HashSet<>();
        for (String c : conversations) {
            var conversation = engine.as(KilledAtRandom.caller(org)).get(c);
            List<Message> messages = Pages.all(conversation::messages);
            assertThat(messages.size() % 2).as("round %d: %s holds whole turns", round, c).isZero();
            long in = 0;
            long out = 0;
            for (int i = 0; i + 1 < messages.size(); i += 2) {
                Message prompt = messages.get(i);
                Message reply = messages.get(i + 1);
                assertThat(prompt.role()).isEqualTo(Role.USER);
                assertThat(reply.role()).isEqualTo(Role.ASSISTANT);
                assertThat(seen.add(prompt.id())).as("round %d: %s stored once", round, prompt.id()).isTrue();
                assertThat(stored).as("round %d: stored turn %s was acknowledged or resent", round, prompt.id())
                        .containsEntry(prompt.id(), reply.text());
                assertThat(prompt.text()).isEqualTo(KilledAtRandom.prompt(prompt.id()));
                in += reply.usage().tokensIn();
                out += reply.usage().tokensOut();
                checks += 5;
            }
            var info = conversation.info();
            assertThat(info.tokensIn()).as("round %d: input total of %s", round, c).isEqualTo(in);
            assertThat(info.tokensOut()).as("round %d: output total of %s", round, c).isEqualTo(out);
            checks += 3;
        }
        assertThat(seen).as("round %d: every acknowledged turn is stored", round).containsAll(stored.keySet());
        if (!refused.isEmpty()) {
            assertThat(seen).as("round %d: no refused turn is stored", round).doesNotContainAnyElementsOf(refused);
        }
        return checks + stored.size() + refused.size();
    }

    /** Checks the account: one charge per stored turn, the balance exact and not negative, nothing reserved. */
    private static long checkAccount(ConversationEngine engine, JdbcConversationStore store, String accountId,
                                     Set<String> storedIds, int round) {
        List<LedgerEntry> ledger = Pages.all(page -> store.ledger(accountId, page));
        Map<String, BigDecimal> charges = new LinkedHashMap<>();
        for (LedgerEntry e : ledger) {
            if (e.kind() == LedgerEntry.Kind.CHARGE) {
                assertThat(charges.put(e.messageId(), e.amount().negate())).as("round %d: one charge of %s", round,
                        e.messageId()).isNull();
            }
        }
        assertThat(charges.keySet()).as("round %d: the charged turns are the stored ones", round)
                .containsExactlyInAnyOrderElementsOf(storedIds);
        BigDecimal charged = charges.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        CreditAccount account = engine.credits().account(accountId).orElseThrow();
        assertThat(account.balance()).as("round %d: balance", round).isEqualByComparingTo(OPENING.subtract(charged))
                .isEqualByComparingTo(sum).isGreaterThanOrEqualTo(BigDecimal.ZERO);
        assertThat(account.reserved()).as("round %d: reserved once the dead engine's leases passed", round)
                .isEqualByComparingTo(BigDecimal.ZERO);
        return 4L + charges.size();
    }

    /** What one child did before its kill. */
    private record Round(Map<String, String> begun, Map<String, String> acknowledged, Set<String> refused,
                         java.time.Instant killedAt) {
    }

    /**
     * Starts a child, lets it acknowledge {@code acks} turns, then kills it {@code delayMillis} later, wherever it
     * is; returns what it printed before it died.
     */
    private Round runAndKill(String spec, String org, String prefix, long seed, List<String> conversations,
                             ScheduledExecutorService killer, int acks, int delayMillis) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), KilledAtRandom.class.getName(), spec, org, prefix,
                Long.toString(seed)));
        command.addAll(conversations);
        Path err = dir.resolve(prefix + ".err");
        Process child = new ProcessBuilder(command).redirectError(err.toFile()).start();
        Map<String, String> begun = new HashMap<>();
        Map<String, String> acknowledged = new HashMap<>();
        Set<String> refused = new HashSet<>();
        java.time.Instant[] killedAt = new java.time.Instant[1];
        boolean ready = false;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            int acked = 0;
            boolean scheduled = false;
            for (String line; (line = readLine(out, killedAt)) != null; ) {
                Files.writeString(transcript, prefix + " " + line + System.lineSeparator(), StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.APPEND);
                String[] f = line.split(" ", 5);
                switch (f[0]) {
                    case "ready" -> ready = true;
                    case "begin" -> {
                        if (f.length >= 3) {
                            begun.put(f[2], f[1]);
                        }
                    }
                    case "ack" -> {
                        // a line cut short by the kill is not an acknowledgement
                        if (f.length == 5) {
                            acknowledged.put(f[2], f[4]);
                            acked++;
                        }
                    }
                    case "failed" -> {
                        if (f.length >= 3) {
                            refused.add(f[2]);
                        }
                    }
                    default -> {
                        // a log line
                    }
                }
                if (ready && !scheduled && acked >= acks) {
                    scheduled = true;
                    killer.schedule(() -> {
                        killedAt[0] = java.time.Instant.now();
                        child.destroyForcibly();
                    }, delayMillis, TimeUnit.MILLISECONDS);
                }
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(ready && killedAt[0] != null).as("the child ran until its kill; its standard error:%n%s",
                tail(err)).isTrue();
        return new Round(begun, acknowledged, refused, killedAt[0]);
    }

    /**
     * Reads the child's next line; once the kill has been issued the JDK may close the pipe under the reader, which
     * is the end of the child's output, not a failure.
     */
    private static String readLine(BufferedReader out, java.time.Instant[] killedAt) throws IOException {
        try {
            return out.readLine();
        } catch (IOException e) {
            if (killedAt[0] != null) {
                return null;
            }
            throw e;
        }
    }

    private static String tail(Path file) {
        try {
            String all = Files.readString(file, StandardCharsets.UTF_8);
            return all.length() <= 4000 ? all : all.substring(all.length() - 4000);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** A stream's terminal event. */
    private static final class StoredStream implements dev.parley.api.StreamListener {
        volatile Reply reply;
        volatile RuntimeException error;

        @Override
        public void onDelta(String delta) {
        }

        @Override
        public void onComplete(Reply r) {
            reply = r;
        }

        @Override
        public void onError(RuntimeException e) {
            error = e;
        }
    }
}
