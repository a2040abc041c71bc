package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Role;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.policy.Violation;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.api.values.AuditEvent;
import dev.parley.store.jdbc.LoadWorkload.Attempt;
import dev.parley.store.jdbc.LoadWorkload.Kind;
import dev.parley.store.jdbc.LoadWorkload.Outcome;
import dev.parley.store.jdbc.LoadWorkload.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many threads of mixed turns ({@link LoadWorkload}: sends with and without ids, streams, cancels, replays, PRE
 * blocks, model failures, organizations running out of credits) on one store, then every invariant checked on
 * what the store holds: every acknowledged turn's two messages present exactly once with the acknowledged text,
 * status and ids, and nothing of a refused or failed attempt; every replay answered with the stored reply;
 * every conversation's totals equal to the sum of its replies' usage; every account's balance equal to its opening
 * funds less its charges, to the sum of its ledger, and not negative, with one charge per stored turn of the
 * credits its reply said and nothing reserved; the usage ledger agreeing (a request per stored or blocked turn); one TURN_FAILED event per failed turn,
 * one PROMPT_BLOCKED event and one violation per blocked prompt, one CONVERSATION_CREATED per conversation; no
 * claim, stream lock or credit hold left in the tables.
 *
 * <p>Sized by system properties: {@code parley.load.threads} (64), {@code parley.load.turnsPerThread} (100 in the
 * default build, 10,000 in {@code -Preliability}) and {@code parley.load.conversations} (100; 1,000). Each run
 * writes a summary to {@code target/reliability/}.
 */
abstract class LoadTest {
    static final int THREADS = Integer.getInteger("parley.load.threads", 64);
    static final int TURNS_PER_THREAD = Integer.getInteger("parley.load.turnsPerThread", 100);
    static final int CONVERSATIONS = Integer.getInteger("parley.load.conversations", 100);
    private static final int ORGANIZATIONS = 10;
    /** Organizations from this index on get too few credits for their share of the turns. */
    private static final int FIRST_POOR_ORGANIZATION = 8;
    private static final BigDecimal RICH = new BigDecimal("100000000");

    @TempDir
    Path dir;

    /** A name for the summary file. */
    protected abstract String name();

    /** Opens the store under test; called once for the load and again for the checks. */
    protected abstract JdbcConversationStore openStore();

    /** A plain connection to the store's database, for the checks of its tables after the engines closed. */
    protected abstract Connection connect() throws SQLException;

    /** Threads of the engine in this JVM; a subclass that runs a second engine elsewhere gives it the rest. */
    protected int localThreads() {
        return THREADS;
    }

    /**
     * Runs the second engine's share of the load, started once {@code start} has run this JVM's engine; returns
     * its attempts. None by default.
     */
    protected List<Attempt> otherEngines(Path targets, Runnable startLocal) throws Exception {
        startLocal.run();
        return List.of();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.MINUTES)
    void afterMixedLoadEveryMessageTotalBalanceEventAndTableIsExact() throws Exception {
        String tag = LoadWorkload.newTag();
        List<Target> targets = new ArrayList<>();
        Map<String, String> accountOfOrganization = new HashMap<>();
        Map<String, BigDecimal> opening = new HashMap<>();
        List<Attempt> attempts = new ArrayList<>();
        long started;
        long elapsed;
        try (ConversationEngine engine = LoadWorkload.engine(openStore())) {
            // A poor organization has about a third of what its share of the turns would cost.
            BigDecimal perTurn = new BigDecimal("0.105");
            BigDecimal poor = perTurn.multiply(BigDecimal.valueOf(Math.max(1, (long) THREADS * TURNS_PER_THREAD
                    / ORGANIZATIONS / 4)));
            for (int o = 0; o < ORGANIZATIONS; o++) {
                String org = "load-" + tag + "-" + o;
                CreditAccount account = engine.credits().open(AccountOwner.organization(org));
                BigDecimal funds = o >= FIRST_POOR_ORGANIZATION ? poor : RICH;
                engine.credits().topUp(account.id(), funds, "load test funds");
                accountOfOrganization.put(org, account.id());
                opening.put(org, funds);
            }
            List<String> organizations = new ArrayList<>(accountOfOrganization.keySet());
            organizations.sort(null);
            for (int i = 0; i < CONVERSATIONS; i++) {
                String org = organizations.get(i % ORGANIZATIONS);
                String id = engine.as(LoadWorkload.caller(org)).create(NewConversation.inWorkspace(LoadWorkload.WORKSPACE)
                        .build()).id();
                targets.add(new Target(id, org));
            }
            Path targetFile = dir.resolve("targets.tsv");
            Files.write(targetFile, targets.stream().map(Target::line).toList(), StandardCharsets.UTF_8);

            started = System.nanoTime();
            List<Attempt> local = new ArrayList<>();
            Exception[] localFailure = new Exception[1];
            attempts.addAll(otherEngines(targetFile, () -> {
                try {
                    local.addAll(LoadWorkload.run(engine, targets, localThreads(), TURNS_PER_THREAD, 42, "local-" + tag));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    localFailure[0] = e;
                }
            }));
            if (localFailure[0] != null) {
                throw localFailure[0];
            }
            attempts.addAll(local);
            elapsed = System.nanoTime() - started;
        }

        Checks checks = new Checks();
        checks.that(attempts.size() == (long) THREADS * TURNS_PER_THREAD, "every attempt recorded: %d of %d",
                attempts.size(), (long) THREADS * TURNS_PER_THREAD);
        for (Attempt a : attempts) {
            checks.that(a.outcome() != Outcome.UNEXPECTED, "an attempt ended unexpectedly: %s %s", a.kind(), a.error());
        }
        try (JdbcConversationStore store = openStore();
             ConversationEngine engine = LoadWorkload.engine(store)) {
            checkConversations(checks, store, engine, targets, attempts);
            checkAccounts(checks, store, engine, accountOfOrganization, opening, attempts, targets);
        }
        checkTables(checks);

        Map<Kind, Long> kinds = attempts.stream().collect(Collectors.groupingBy(Attempt::kind, () -> new EnumMap<>(Kind.class),
                Collectors.counting()));
        Map<Outcome, Long> outcomes = attempts.stream().collect(Collectors.groupingBy(Attempt::outcome,
                () -> new EnumMap<>(Outcome.class), Collectors.counting()));
        String summary = String.format("load on %s: %d threads x %d attempts over %d conversations in %d organizations"
                        + " (%d short of credits), %.1f s (%.0f attempts/s)%nattempts by kind: %s%noutcomes: %s%n"
                        + "invariants checked: %d%nviolations found: %d%n",
                name(), THREADS, TURNS_PER_THREAD, CONVERSATIONS, ORGANIZATIONS, ORGANIZATIONS - FIRST_POOR_ORGANIZATION,
                elapsed / 1e9, attempts.size() / (elapsed / 1e9), kinds, outcomes, checks.checked, checks.failed);
        Path out = Path.of("target", "reliability");
        Files.createDirectories(out);
        Files.writeString(out.resolve("load-" + name() + ".txt"), summary + String.join("\n", checks.failures),
                StandardCharsets.UTF_8);

        assertThat(checks.failures).as(summary).isEmpty();
        // The mix reached every path it is meant to.
        for (Outcome o : List.of(Outcome.STORED, Outcome.REPLAYED, Outcome.BUDGET, Outcome.BLOCKED, Outcome.MODEL_FAILED)) {
            assertThat(outcomes.getOrDefault(o, 0L)).as("attempts that ended %s", o).isPositive();
        }
        assertThat(attempts).as("cancelled streams stored")
                .anyMatch(a -> a.kind() == Kind.CANCELLED_STREAM && a.status().equals("CANCELLED"));
    }

    private void checkConversations(Checks checks, JdbcConversationStore store, ConversationEngine engine,
                                    List<Target> targets, List<Attempt> attempts) {
        Map<String, List<Attempt>> byConversation = attempts.stream().collect(Collectors.groupingBy(Attempt::conversationId));
        for (Target t : targets) {
            String cid = t.conversationId();
            List<Attempt> mine = byConversation.getOrDefault(cid, List.of());
            Map<String, Attempt> stored = new HashMap<>();
            for (Attempt a : mine) {
                if (a.outcome() == Outcome.STORED) {
                    checks.that(stored.put(a.promptId(), a) == null, "%s: prompt id %s acknowledged twice", cid, a.promptId());
                }
            }
            var conversation = engine.as(LoadWorkload.caller(t.organizationId())).get(cid);
            List<Message> messages = Pages.all(conversation::messages);
            checks.that(messages.size() == 2 * stored.size(), "%s: %d messages stored for %d acknowledged turns", cid,
                    messages.size(), stored.size());
            Set<String> seen = new HashSet<>();
            long tokensIn = 0;
            long tokensOut = 0;
            Map<String, Message> replies = new HashMap<>();
            for (int i = 0; i + 1 < messages.size(); i += 2) {
                Message prompt = messages.get(i);
                Message reply = messages.get(i + 1);
                checks.that(prompt.role() == Role.USER && reply.role() == Role.ASSISTANT, "%s: message %d and %d are %s, %s",
                        cid, i, i + 1, prompt.role(), reply.role());
                checks.that(seen.add(prompt.id()), "%s: prompt id %s stored twice", cid, prompt.id());
                Attempt a = stored.get(prompt.id());
                if (!checks.that(a != null, "%s: stored turn %s was never acknowledged", cid, prompt.id())) {
                    continue;
                }
                checks.that(prompt.text().equals(a.prompt()), "%s: prompt of %s differs", cid, prompt.id());
                checks.that(reply.id().equals(a.replyId()), "%s: reply id of %s differs", cid, prompt.id());
                checks.that(reply.text().equals(a.reply()), "%s: reply of %s differs", cid, prompt.id());
                checks.that(reply.status().name().equals(a.status()), "%s: status of %s: %s, acknowledged %s", cid,
                        prompt.id(), reply.status(), a.status());
                checks.that(reply.usage() != null && reply.usage().tokensIn() == a.tokensIn()
                        && reply.usage().tokensOut() == a.tokensOut(), "%s: usage of %s differs", cid, prompt.id());
                tokensIn += reply.usage() == null ? 0 : reply.usage().tokensIn();
                tokensOut += reply.usage() == null ? 0 : reply.usage().tokensOut();
                replies.put(prompt.id(), reply);
            }
            for (String id : stored.keySet()) {
                checks.that(seen.contains(id), "%s: acknowledged turn %s is missing", cid, id);
            }
            for (Attempt a : mine) {
                if (a.outcome() == Outcome.REPLAYED) {
                    Message reply = replies.get(a.promptId());
                    checks.that(reply != null && reply.text().equals(a.reply()) && reply.id().equals(a.replyId()),
                            "%s: replay of %s did not return the stored reply", cid, a.promptId());
                }
            }
            ConversationInfo info = conversation.info();
            checks.that(info.tokensIn() == tokensIn && info.tokensOut() == tokensOut,
                    "%s: totals %d/%d, sum of its replies %d/%d", cid, info.tokensIn(), info.tokensOut(), tokensIn, tokensOut);

            Map<AuditEvent.Type, List<AuditEvent>> events = store.events(cid).stream()
                    .collect(Collectors.groupingBy(AuditEvent::type));
            checks.that(events.getOrDefault(AuditEvent.Type.CONVERSATION_CREATED, List.of()).size() == 1,
                    "%s: CONVERSATION_CREATED events", cid);
            long failed = mine.stream().filter(a -> a.outcome() == Outcome.BUDGET || a.outcome() == Outcome.MODEL_FAILED).count();
            List<AuditEvent> failures = events.getOrDefault(AuditEvent.Type.TURN_FAILED, List.of());
            checks.that(failures.size() == failed, "%s: %d TURN_FAILED events for %d failed turns", cid, failures.size(), failed);
            for (Attempt a : mine) {
                if ((a.outcome() == Outcome.BUDGET || a.outcome() == Outcome.MODEL_FAILED) && !a.promptId().equals("-")) {
                    long n = failures.stream().filter(e -> e.detail().endsWith("message=" + a.promptId())).count();
                    checks.that(n == 1, "%s: %d TURN_FAILED events of %s", cid, n, a.promptId());
                }
            }
            Set<String> blocked = mine.stream().filter(a -> a.outcome() == Outcome.BLOCKED).map(Attempt::promptId)
                    .collect(Collectors.toSet());
            List<AuditEvent> blocks = events.getOrDefault(AuditEvent.Type.PROMPT_BLOCKED, List.of());
            checks.that(blocks.size() == blocked.size(), "%s: %d PROMPT_BLOCKED events for %d blocked prompts", cid,
                    blocks.size(), blocked.size());
            checks.that(blocks.stream().map(e -> e.detail().substring(e.detail().lastIndexOf("message=") + 8))
                    .collect(Collectors.toSet()).equals(blocked), "%s: PROMPT_BLOCKED events name the blocked prompts", cid);
            Caller auditor = Caller.user("auditor", t.organizationId()).admin(LoadWorkload.WORKSPACE).build();
            List<Violation> violations = Pages.all(engine.as(auditor).get(cid)::violations);
            checks.that(violations.size() == blocked.size()
                            && violations.stream().map(Violation::messageId).collect(Collectors.toSet()).equals(blocked),
                    "%s: %d violations for %d blocked prompts", cid, violations.size(), blocked.size());
        }
    }

    private static void checkAccounts(Checks checks, JdbcConversationStore store, ConversationEngine engine,
                                      Map<String, String> accountOfOrganization, Map<String, BigDecimal> opening,
                                      List<Attempt> attempts, List<Target> targets) {
        Map<String, String> organizationOf = targets.stream().collect(Collectors.toMap(Target::conversationId,
                Target::organizationId));
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        for (Map.Entry<String, String> e : accountOfOrganization.entrySet()) {
            String org = e.getKey();
            List<LedgerEntry> ledger = Pages.all(page -> store.ledger(e.getValue(), page));
            Map<String, BigDecimal> charges = new HashMap<>();
            for (LedgerEntry entry : ledger) {
                if (entry.kind() == LedgerEntry.Kind.CHARGE) {
                    checks.that(charges.put(entry.messageId(), entry.amount().negate()) == null, "%s: two charges of %s",
                            org, entry.messageId());
                }
            }
            Map<String, Attempt> stored = attempts.stream()
                    .filter(a -> a.outcome() == Outcome.STORED && organizationOf.get(a.conversationId()).equals(org))
                    .collect(Collectors.toMap(Attempt::promptId, Function.identity()));
            checks.that(charges.keySet().equals(stored.keySet()), "%s: %d charges for %d stored turns", org,
                    charges.size(), stored.size());
            for (Attempt a : stored.values()) {
                BigDecimal charged = charges.get(a.promptId());
                checks.that(charged != null && charged.compareTo(new BigDecimal(a.credits())) == 0 && charged.signum() > 0,
                        "%s: charge of %s is %s, its reply said %s", org, a.promptId(), charged, a.credits());
            }
            BigDecimal charged = charges.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
            BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
            CreditAccount account = engine.credits().account(e.getValue()).orElseThrow();
            checks.that(account.balance().compareTo(opening.get(org).subtract(charged)) == 0,
                    "%s: balance %s, opening less charges %s", org, account.balance(), opening.get(org).subtract(charged));
            checks.that(account.balance().compareTo(sum) == 0, "%s: balance %s, sum of ledger %s", org, account.balance(), sum);
            checks.that(account.balance().signum() >= 0, "%s: balance %s below zero", org, account.balance());
            checks.that(account.reserved().signum() == 0, "%s: %s still reserved", org, account.reserved());

            List<UsageRow> usage = Pages.all(page -> store.usage(org, UsageQuery.by(UsageQuery.GroupBy.MODEL,
                    today.minusDays(1), today.plusDays(1)), page));
            long blocked = attempts.stream().filter(a -> a.outcome() == Outcome.BLOCKED
                    && organizationOf.get(a.conversationId()).equals(org)).count();
            long requests = usage.stream().mapToLong(UsageRow::requests).sum();
            BigDecimal usageCredits = usage.stream().map(UsageRow::credits).reduce(BigDecimal.ZERO, BigDecimal::add);
            // A blocked prompt is a settled turn too (its prompt's tokens are reported), though it stores no message.
            checks.that(requests == stored.size() + blocked, "%s: usage ledger has %d requests for %d stored and %d "
                    + "blocked turns", org, requests, stored.size(), blocked);
            checks.that(usageCredits.compareTo(charged) == 0, "%s: usage ledger credits %s, charges %s", org,
                    usageCredits, charged);
        }
    }

    private void checkTables(Checks checks) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String[] q : new String[][]{
                    {"claims still pending", "SELECT COUNT(*) FROM parley_turn WHERE status = 'PENDING'"},
                    {"stream locks left", "SELECT COUNT(*) FROM parley_stream_lock"},
                    {"credit holds left", "SELECT COUNT(*) FROM parley_credit_hold"}}) {
                try (ResultSet rs = s.executeQuery(q[1])) {
                    rs.next();
                    checks.that(rs.getLong(1) == 0, "%s: %d", q[0], rs.getLong(1));
                }
            }
        }
    }

    /** Invariants checked and the ones that failed, so that a run reports all of them rather than the first. */
    static final class Checks {
        long checked;
        long failed;
        /** The first 200 failures. */
        final List<String> failures = new ArrayList<>();

        boolean that(boolean holds, String what, Object... args) {
            checked++;
            if (!holds) {
                failed++;
                if (failures.size() < 200) {
                    failures.add(String.format(what, args));
                }
            }
            return holds;
        }
    }
}
