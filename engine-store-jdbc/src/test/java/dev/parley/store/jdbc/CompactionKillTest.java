package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.compaction.Summary;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Kills a child JVM ({@link CompactsUntilKilled}) with SIGKILL in the middle of compactions and checks the store
 * afterwards: no summary half-written (every summary has its one charge and its usage, every summarizer charge its
 * summary), every acknowledged turn present, the dead engine's claim and credit hold lapsing with their lease, and
 * the next engine compacting the conversation again. Subclasses name the store.
 */
abstract class CompactionKillTest {
    private static final int RANDOM_ROUNDS = 6;

    @TempDir
    Path dir;

    /** The store argument of the child: {@code h2:<file>} or {@code postgresql:<url>}. */
    protected abstract String storeSpec();

    /** What a child did before its kill. */
    private record Run(String conversation, List<String> acknowledged) {
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aCompactionKilledWhileTheSummarizerWorksLeavesNothingAndTheNextEngineCompactsOnceTheClaimLapses()
            throws Exception {
        String spec = storeSpec();
        Run run = runAndKill(spec, "hang", "child-hang", 1, false);
        ScriptedModel summarizer = ScriptedModel.builder().chatOnly()
                .replyWith(r -> "A summary written after the crash.").build();
        try (ConversationEngine engine = CompactsUntilKilled.engine(spec, summarizer)) {
            SummaryLog log = (SummaryLog) engine.config().configuredStore().orElseThrow();
            assertThat(log.summaries(run.conversation())).as("no summary from the killed compaction").isEmpty();
            assertWhole(engine, log, List.of(run));

            // The dead engine's claim holds the conversation until its lease lapses; turns go on meanwhile, and
            // one of them brings the compaction back.
            Conversation c = engine.as(CompactsUntilKilled.alice()).get(run.conversation());
            List<String> sent = new ArrayList<>(run.acknowledged());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 1; log.summaries(run.conversation()).isEmpty(); i++) {
                if (System.nanoTime() > deadline) {
                    fail("no compaction within 30 s of the kill");
                }
                String id = run.conversation() + "-after-" + i;
                c.send(Prompt.text(CompactsUntilKilled.prompt(id)).id(id).build());
                sent.add(id);
                Thread.sleep(200);
            }
            awaitQuiet(log, run.conversation(), summarizer);
            assertThat(summarizer.callCount()).as("every summarizer call stored its summary")
                    .isEqualTo(log.summaries(run.conversation()).size());
            assertStored(c, sent);
            assertWhole(engine, log, List.of(run));
            awaitNothingReserved(engine);
        }
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void killsAtRandomPointsOfCompactionsLeaveEverySummaryWholeWithItsCharge() throws Exception {
        String spec = storeSpec();
        List<Run> runs = new ArrayList<>();
        for (int round = 1; round <= RANDOM_ROUNDS; round++) {
            runs.add(runAndKill(spec, "random", "child-random-" + round,
                    ThreadLocalRandom.current().nextInt(1, 4), true));
        }
        ScriptedModel summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> "unused").build();
        try (ConversationEngine engine = CompactsUntilKilled.engine(spec, summarizer)) {
            SummaryLog log = (SummaryLog) engine.config().configuredStore().orElseThrow();
            assertWhole(engine, log, runs);
            for (Run run : runs) {
                assertStored(engine.as(CompactsUntilKilled.alice()).get(run.conversation()), run.acknowledged());
            }
            awaitNothingReserved(engine);
        }
    }

    /**
     * Every summary whole: its range within the stored history, ending with a whole turn, after the one before;
     * exactly one CHARGE on the account for each summary, of the credits it says, and none for a summary that is not
     * stored; the usage ledger's summarizer tokens those of the summaries; the balance the ledger's sum, not below
     * zero.
     */
    private static void assertWhole(ConversationEngine engine, SummaryLog log, List<Run> runs) {
        Map<String, Summary> summaries = new HashMap<>();
        long tokensIn = 0;
        for (Run run : runs) {
            long count = engine.as(CompactsUntilKilled.alice()).get(run.conversation())
                    .messages(PageRequest.of(1, 1)).totalElements();
            long last = 0;
            for (Summary s : log.summaries(run.conversation())) {
                assertThat(s.toSequence()).isGreaterThan(last).isLessThanOrEqualTo(count);
                assertThat(s.toSequence() % 2).as("a summary ends with a whole turn").isZero();
                last = s.toSequence();
                summaries.put(s.id(), s);
                tokensIn += s.usage().tokensIn();
            }
        }
        CreditAccounts credits = engine.credits();
        CreditAccount account = credits.account(AccountOwner.organization(CompactsUntilKilled.ORG)).orElseThrow();
        List<LedgerEntry> ledger = new ArrayList<>();
        for (int page = 1; ; page++) {
            var p = credits.ledger(account.id(), PageRequest.of(page, PageRequest.MAX_SIZE));
            ledger.addAll(p.items());
            if (page >= p.totalPages()) {
                break;
            }
        }
        Set<String> charged = new HashSet<>();
        for (LedgerEntry e : ledger) {
            if (CompactsUntilKilled.SUMMARIZER.equals(e.model())) {
                assertThat(charged.add(e.messageId())).as("summary %s charged once", e.messageId()).isTrue();
                assertThat(summaries).as("the summary charged in entry %s", e.id()).containsKey(e.messageId());
                assertThat(e.amount().negate()).isEqualByComparingTo(summaries.get(e.messageId()).credits().used());
            }
        }
        assertThat(charged).as("every stored summary charged").isEqualTo(summaries.keySet());
        BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        CreditAccount now = credits.account(account.id()).orElseThrow();
        assertThat(now.balance()).isEqualByComparingTo(sum).isNotNegative();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        List<UsageRow> rows = engine.as(Caller.user("admin", CompactsUntilKilled.ORG).organizationAdmin().build())
                .usage(UsageQuery.by(UsageQuery.GroupBy.MODEL, today.minusDays(1), today.plusDays(1)),
                        PageRequest.of(1, PageRequest.MAX_SIZE)).items();
        long recorded = rows.stream().filter(r -> r.key().equals(CompactsUntilKilled.SUMMARIZER))
                .mapToLong(UsageRow::tokensIn).sum();
        assertThat(recorded).as("the usage ledger's summarizer tokens").isEqualTo(tokensIn);
    }

    /** Every acknowledged turn is stored with its prompt, and every stored prompt has its reply. */
    private static void assertStored(Conversation c, List<String> acknowledged) {
        Map<String, Message> prompts = new HashMap<>();
        for (int page = 1; ; page++) {
            var p = c.messages(PageRequest.of(page, PageRequest.MAX_SIZE));
            for (Message m : p.items()) {
                if (m.role() == dev.parley.api.Role.USER) {
                    prompts.put(m.id(), m);
                }
            }
            if (page >= p.totalPages()) {
                break;
            }
        }
        for (String id : acknowledged) {
            assertThat(prompts).as("acknowledged turn %s", id).containsKey(id);
            assertThat(prompts.get(id).text()).isEqualTo(CompactsUntilKilled.prompt(id));
        }
        assertThat(c.messages(PageRequest.of(1, 1)).totalElements()).isEqualTo(2L * prompts.size());
    }

    /** Waits until the summarizer has been quiet for a second, so that no compaction is mid-way. */
    private static void awaitQuiet(SummaryLog log, String conversation, ScriptedModel summarizer)
            throws InterruptedException {
        int calls = -1;
        int stored = -1;
        while (calls != summarizer.callCount() || stored != log.summaries(conversation).size()) {
            calls = summarizer.callCount();
            stored = log.summaries(conversation).size();
            Thread.sleep(1000);
        }
    }

    /** Waits (up to twice the lease and some) until no hold of a dead engine reserves credits on the account. */
    private static void awaitNothingReserved(ConversationEngine engine) throws InterruptedException {
        CreditAccounts credits = engine.credits();
        long deadline = System.nanoTime() + CompactsUntilKilled.LEASE.multipliedBy(2).plusSeconds(10).toNanos();
        while (credits.account(AccountOwner.organization(CompactsUntilKilled.ORG)).orElseThrow().reserved()
                .signum() != 0) {
            if (System.nanoTime() > deadline) {
                fail("credits still reserved long after the killed engine's leases");
            }
            Thread.sleep(100);
        }
    }

    /**
     * Starts a child, reads its lines until it has printed {@code summarizing} {@code summaries} times, kills it
     * with SIGKILL (after a random few milliseconds when {@code jitter}) and waits for it to die.
     */
    private Run runAndKill(String spec, String mode, String name, int summaries, boolean jitter)
            throws IOException, InterruptedException {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CompactsUntilKilled.class.getName(), spec, mode)
                .redirectError(dir.resolve(name + ".err").toFile())
                .start();
        String conversation = null;
        List<String> acks = new ArrayList<>();
        boolean killed = false;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            int seen = 0;
            while (!killed && (line = out.readLine()) != null) {
                if (line.startsWith("conversation ")) {
                    conversation = line.substring("conversation ".length());
                } else if (line.startsWith("ack ")) {
                    acks.add(line.substring("ack ".length()));
                } else if (line.equals("summarizing") && ++seen >= summaries) {
                    if (jitter) {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(0, 25));
                    }
                    child.destroyForcibly();
                    killed = true;
                }
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(killed).as("the child reached a compaction; its standard error:%n%s",
                java.nio.file.Files.exists(dir.resolve(name + ".err"))
                        ? java.nio.file.Files.readString(dir.resolve(name + ".err")) : "").isTrue();
        assertThat(conversation).isNotNull();
        return new Run(conversation, acks);
    }
}
