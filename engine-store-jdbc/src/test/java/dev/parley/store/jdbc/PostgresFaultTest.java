package dev.parley.store.jdbc;

import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.StoreFailureException;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Faults of the database under load, on PostgreSQL: the engine's connections terminated again and again
 * ({@code pg_terminate_backend}) while eight threads run metered turns, and the server restarted under the same
 * load. Every turn either returns, or fails with a typed {@link StoreFailureException} (or
 * {@link ConversationLockedException} while a failed turn's claim is still leased); no half turn is stored; a turn
 * that failed after its commit reached the database replays when sent again and one that did not is answered
 * afresh, and either is then stored once; totals and the account's ledger agree; and once the fault stops, the next
 * turn on every conversation works on the same engine.
 */
class PostgresFaultTest {
    private static final int THREADS = 8;
    private static final Duration LOAD = Duration.ofSeconds(6);
    private static final BigDecimal OPENING = new BigDecimal("1000000");

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void connectionsTerminatedUnderLoadGiveTypedErrorsStoreNoHalfTurnAndTheEngineRecovers() throws Exception {
        Fault terminate = new Fault() {
            @Override
            public void run(AtomicBoolean stop) throws Exception {
                try (Connection c = DriverManager.getConnection(TestDatabases.postgresUrl());
                     Statement s = c.createStatement()) {
                    while (!stop.get()) {
                        s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                                + " AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
                        injected.incrementAndGet();
                        Thread.sleep(40);
                    }
                }
            }
        };
        underFault("terminated-connections", terminate);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aServerRestartUnderLoadGivesTypedErrorsStoresNoHalfTurnAndTheEngineRecovers() throws Exception {
        String dataDir = System.getenv("PARLEY_PG_DIR");
        if (dataDir == null || dataDir.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("PARLEY_PG_DIR is not set: CI must run the server restart test (see .ci/postgres.sh)");
            }
            org.junit.jupiter.api.Assumptions.abort("PARLEY_PG_DIR is not set: the server restart test needs the "
                    + "test server's data directory (source .ci/postgres.sh && postgres_start)");
        }
        Fault restart = new Fault() {
            @Override
            public void run(AtomicBoolean stop) throws Exception {
                Thread.sleep(LOAD.toMillis() / 3);
                restartServer(Path.of(dataDir));
                injected.incrementAndGet();
            }
        };
        underFault("server-restart", restart);
    }

    /** Something done to the database while the load runs, until told to stop. */
    private abstract static class Fault {
        final AtomicInteger injected = new AtomicInteger();

        abstract void run(AtomicBoolean stop) throws Exception;
    }

    private void underFault(String name, Fault fault) throws Exception {
        TestDatabases.postgres().close(); // empties the tables
        String org = "org-" + UUID.randomUUID();
        List<String> conversations = new ArrayList<>();
        Map<String, Reply> acknowledged = new ConcurrentHashMap<>();
        Map<String, String> failedIds = new ConcurrentHashMap<>(); // id -> conversation
        Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        JdbcConversationStore store = JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null);
        try (ConversationEngine engine = KilledAtRandom.engine(store, KilledAtRandom.model(Duration.ofMillis(2)))) {
            CreditAccount account = engine.credits().open(AccountOwner.organization(org));
            engine.credits().topUp(account.id(), OPENING, "fault test funds");
            for (int i = 0; i < THREADS * 2; i++) {
                conversations.add(engine.as(KilledAtRandom.caller(org)).create(NewConversation.inWorkspace(
                        KilledAtRandom.WORKSPACE).build()).id());
            }

            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            Future<?> faults = pool.submit(() -> {
                fault.run(stop);
                return null;
            });
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String c = conversations.get((thread * 2 + i) % conversations.size());
                        String id = name + "-t" + thread + "-" + i;
                        try {
                            Reply r = engine.as(KilledAtRandom.caller(org)).get(c)
                                    .send(Prompt.text(KilledAtRandom.prompt(id)).id(id).build());
                            acknowledged.put(id, r);
                        } catch (StoreFailureException | ConversationLockedException e) {
                            failedIds.put(id, c);
                            errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger()).incrementAndGet();
                        } catch (RuntimeException e) {
                            errors.computeIfAbsent("untyped " + e.getClass().getName(), k -> new AtomicInteger())
                                    .incrementAndGet();
                            failedIds.put(id, c);
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(LOAD.toMillis());
            stop.set(true);
            faults.get(2, TimeUnit.MINUTES);
            for (Future<?> w : workers) {
                w.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();

            assertThat(errors.keySet()).as("every failure was typed: %s", errors).allMatch(k -> !k.startsWith("untyped"));
            assertThat(fault.injected).as("faults injected").hasPositiveValue();
            assertThat(acknowledged).as("turns that returned under the fault").isNotEmpty();

            // The fault has stopped: once the pool's dead connections are noticed, the same engine works again.
            Thread.sleep(1_000);
            Map<String, Reply> resent = new HashMap<>();
            int replayed = 0;
            for (Map.Entry<String, String> e : failedIds.entrySet()) {
                Reply r = KilledAtRandom.resend(engine, org, e.getValue(), e.getKey());
                resent.put(e.getKey(), r);
                if (r.replayed()) {
                    replayed++;
                }
            }
            for (String c : conversations) {
                String id = name + "-after-" + UUID.randomUUID();
                acknowledged.put(id, engine.as(KilledAtRandom.caller(org)).get(c)
                        .send(Prompt.text(KilledAtRandom.prompt(id)).id(id).build()));
            }
            acknowledged.putAll(resent);

            Set<String> seen = new HashSet<>();
            for (String c : conversations) {
                var conversation = engine.as(KilledAtRandom.caller(org)).get(c);
                List<Message> messages = Pages.all(conversation::messages);
                assertThat(messages.size() % 2).as("%s holds whole turns", c).isZero();
                long in = 0;
                long out = 0;
                for (int i = 0; i + 1 < messages.size(); i += 2) {
                    Message prompt = messages.get(i);
                    Message reply = messages.get(i + 1);
                    assertThat(prompt.role()).isEqualTo(Role.USER);
                    assertThat(reply.role()).isEqualTo(Role.ASSISTANT);
                    assertThat(seen.add(prompt.id())).as("%s stored once", prompt.id()).isTrue();
                    assertThat(acknowledged).as("stored turn %s returned or was resent", prompt.id())
                            .containsKey(prompt.id());
                    assertThat(reply.text()).isEqualTo(acknowledged.get(prompt.id()).text());
                    in += reply.usage().tokensIn();
                    out += reply.usage().tokensOut();
                }
                assertThat(conversation.info().tokensIn()).as("input total of %s", c).isEqualTo(in);
                assertThat(conversation.info().tokensOut()).as("output total of %s", c).isEqualTo(out);
            }
            assertThat(seen).as("every returned or resent turn is stored").containsAll(acknowledged.keySet());

            List<LedgerEntry> ledger = Pages.all(page -> store.ledger(account.id(), page));
            Map<String, BigDecimal> charges = new HashMap<>();
            for (LedgerEntry e : ledger) {
                if (e.kind() == LedgerEntry.Kind.CHARGE) {
                    assertThat(charges.put(e.messageId(), e.amount().negate())).as("one charge of %s", e.messageId()).isNull();
                }
            }
            assertThat(charges.keySet()).as("charged turns are the stored ones").containsExactlyInAnyOrderElementsOf(seen);
            BigDecimal charged = charges.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
            Thread.sleep(KilledAtRandom.LEASE.toMillis() + 300); // holds of failed turns lapse with their lease
            CreditAccount after = engine.credits().account(account.id()).orElseThrow();
            assertThat(after.balance()).isEqualByComparingTo(OPENING.subtract(charged))
                    .isEqualByComparingTo(ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add));
            assertThat(after.reserved()).as("reserved after the fault").isEqualByComparingTo(BigDecimal.ZERO);

            String summary = String.format("fault %s on postgresql: %d threads for %d s, faults injected: %d; turns "
                            + "returned: %d; failed: %d %s (of which %d had committed and replayed, %d answered afresh "
                            + "when resent); turns stored: %d; violations found: 0%n", name, THREADS, LOAD.toSeconds(),
                    fault.injected.get(), acknowledged.size() - resent.size() - conversations.size(), failedIds.size(),
                    errors, replayed, failedIds.size() - replayed, seen.size());
            Path dir = Path.of("target", "reliability");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("fault-" + name + ".txt"), summary, StandardCharsets.UTF_8);
        }
    }

    /**
     * Restarts the test server (fast shutdown: open connections are cut), as its owner when run by root, logging
     * to the server's log file so that nothing keeps this JVM's pipes open.
     */
    private static void restartServer(Path dir) throws Exception {
        String bin = new String(new ProcessBuilder("bash", "-c",
                "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8).trim();
        String pgCtl = "'" + bin + "/pg_ctl' -D '" + dir.resolve("data") + "' -l '" + dir.resolve("server.log")
                + "' -m fast -w restart";
        String uid = new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8).trim();
        ProcessBuilder pb = uid.equals("0")
                ? new ProcessBuilder("su", "postgres", "-s", "/bin/bash", "-c", pgCtl)
                : new ProcessBuilder("bash", "-c", pgCtl);
        Path output = Files.createTempFile("pg-restart", ".txt");
        Process p = pb.redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("pg_ctl restart failed: " + Files.readString(output));
        }
        Files.deleteIfExists(output);
    }
}
