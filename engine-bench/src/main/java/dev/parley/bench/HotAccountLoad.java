package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A load harness: 64 threads send turns, each in a conversation of its own, all in one organization, on
 * PostgreSQL, with no credit account and with one account of the organization that every turn reserves on and is
 * charged to (the hot account), alternately, in one run. Appends turns per second and the median and p99 latency of
 * each trial to {@code hot-account-report.txt}.
 *
 * <p>Run (PostgreSQL URL from {@code PARLEY_TEST_POSTGRES_URL}, as the tests take it):
 * {@code java -cp engine-bench/target/benchmarks.jar dev.parley.bench.HotAccountLoad [seconds] [threads]}
 */
public final class HotAccountLoad {
    private HotAccountLoad() {
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("PARLEY_TEST_POSTGRES_URL");
        if (url == null) {
            throw new IllegalStateException("set PARLEY_TEST_POSTGRES_URL to a PostgreSQL database");
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        String[] trials = {"none", "hot", "none", "hot"};
        for (String trial : trials) {
            run(url, trial, seconds, threads);
        }
    }

    private static void run(String url, String trial, int seconds, int threads) throws Exception {
        String org = "org-" + UUID.randomUUID();
        try (ConversationEngine engine = ConversationEngine.builder()
                .store(JdbcConversationStore.of(url, null, null))
                .model("instant", new GovernanceBenchmark.InstantModel())
                .price("instant", ModelPrice.perThousand("0.15", "0.60")).build()) {
            if (trial.equals("hot")) {
                CreditAccounts credits = engine.credits();
                credits.topUp(credits.open(AccountOwner.organization(org)).id(), new BigDecimal("1000000000"),
                        "load funds");
            }
            List<Conversation> conversations = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                conversations.add(engine.as(Caller.user("u" + i, org).member("ws").build())
                        .create(NewConversation.inWorkspace("ws").build()));
            }
            for (Conversation c : conversations) {
                c.send(Prompt.text(GovernanceBenchmark.PROMPT).build()); // warm each conversation once
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Future<long[]>> results = new ArrayList<>();
            for (Conversation c : conversations) {
                results.add(pool.submit(() -> {
                    start.await();
                    long[] latencies = new long[1 << 16];
                    int n = 0;
                    while (System.nanoTime() < end && n < latencies.length) {
                        long t0 = System.nanoTime();
                        Reply r = c.send(Prompt.text(GovernanceBenchmark.PROMPT).build());
                        latencies[n++] = System.nanoTime() - t0;
                        if (r.credits().metered() != trial.equals("hot")) {
                            throw new IllegalStateException("metered=" + r.credits().metered() + " in trial " + trial);
                        }
                    }
                    return Arrays.copyOf(latencies, n);
                }));
            }
            long t0 = System.nanoTime();
            start.countDown();
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : results) {
                all.add(f.get());
            }
            double elapsed = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            long[] merged = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            String line = String.format("HotAccountLoad trial=%s threads=%d: %d turns in %.1f s = %.0f turns/s, "
                            + "median %.2f ms, p99 %.2f ms%n", trial, threads, merged.length, elapsed,
                    merged.length / elapsed, merged[merged.length / 2] / 1e6, merged[(int) (merged.length * 0.99)] / 1e6);
            java.nio.file.Files.writeString(java.nio.file.Path.of("hot-account-report.txt"), line,
                    java.nio.charset.StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
    }
}
