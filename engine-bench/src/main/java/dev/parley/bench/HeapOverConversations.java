package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.bench.charts.SvgLineChart;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Heap over conversations touched: one engine on a durable H2 file creates conversation after conversation and
 * holds a turn in each (a send, then a stream; four threads at a time), with credits on (an account per organization, reserved on and
 * charged by every turn), 1,000 users in 100 organizations; after every {@code step} conversations it runs a full
 * collection and records the heap in use. What the engine keeps per conversation in the JVM (the settings
 * cache, stream and claim bookkeeping, credit holds, rate-limit counters) must stay within what its caches
 * allow, however many conversations have been touched. It runs once per settings-cache size given and writes
 * {@code heap-over-conversations.csv} (with the H2 file's size), {@code heap-over-conversations.svg} and
 * {@code h2-file-over-conversations.svg} in the working directory.
 *
 * <p>Run: {@code java -Xmx1g -cp engine-bench/target/benchmarks.jar dev.parley.bench.HeapOverConversations
 * [conversations] [step] [cache sizes, comma-separated]} (defaults 100000, 5000, 10000,1000).
 */
public final class HeapOverConversations {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HeapOverConversations.class);
    private static final int USERS = 1_000;
    private static final int ORGANIZATIONS = 100;
    private static final int THREADS = 4;

    private HeapOverConversations() {
    }

    public static void main(String[] args) throws Exception {
        int conversations = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int step = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;
        String[] caches = (args.length > 2 ? args[2] : "10000,1000").split(",");
        Map<String, List<double[]>> runs = new LinkedHashMap<>();
        for (String cache : caches) {
            List<double[]> points = new ArrayList<>();
            runs.put(cache.trim(), points);
            run(Long.parseLong(cache.trim()), conversations, step, points, () -> write(runs));
        }
    }

    /** Writes the CSV and the chart of what has been measured so far, so that a run cut short still leaves them. */
    private static void write(Map<String, List<double[]>> runs) {
        StringBuilder csv = new StringBuilder("settings_cache,conversations_touched,heap_used_mib,file_mib\n");
        SvgLineChart chart = new SvgLineChart("Heap in use after a full collection, one engine on an H2 file",
                "conversations touched (one send and one stream each)", "MiB");
        SvgLineChart file = new SvgLineChart("Size of the H2 file", "conversations touched (one send and one stream each)",
                "MiB");
        for (Map.Entry<String, List<double[]>> run : runs.entrySet()) {
            List<double[]> points = run.getValue();
            if (points.isEmpty()) {
                continue;
            }
            double[] xs = new double[points.size()];
            double[] ys = new double[points.size()];
            double[] fs = new double[points.size()];
            for (int i = 0; i < points.size(); i++) {
                xs[i] = points.get(i)[0];
                ys[i] = points.get(i)[1];
                fs[i] = points.get(i)[2];
                csv.append(String.format(Locale.ROOT, "%s,%.0f,%.1f,%.1f%n", run.getKey(), xs[i], ys[i], fs[i]));
            }
            String name = String.format(Locale.ROOT, "settings cache %,d", Long.parseLong(run.getKey()));
            chart.series(name, xs, ys);
            file.series(name, xs, fs);
        }
        try {
            Files.writeString(Path.of("heap-over-conversations.csv"), csv, StandardCharsets.UTF_8);
            chart.write(Path.of("heap-over-conversations.svg"));
            file.write(Path.of("h2-file-over-conversations.svg"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(long cacheSize, int conversations, int step, List<double[]> points, Runnable sampled)
            throws Exception {
        Path dir = Files.createTempDirectory("parley-heap");
        long started = System.nanoTime();
        AtomicLongArray phases = new AtomicLongArray(3);
        try (ConversationEngine engine = ConversationEngine.builder()
                .store(JdbcConversationStore.builder().h2File(dir.resolve("parley")).settingsCacheSize(cacheSize)
                        .build())
                .model("instant", new GovernanceBenchmark.InstantModel())
                .price("instant", ModelPrice.perThousand("0.15", "0.60"))
                .build()) {
            CreditAccounts credits = engine.credits();
            for (int o = 0; o < ORGANIZATIONS; o++) {
                credits.topUp(credits.open(AccountOwner.organization("org-" + o)).id(), new BigDecimal("1000000"),
                        "heap run");
            }
            Path h2 = dir.resolve("parley.mv.db");
            points.add(new double[] {0, usedMib(), fileMib(h2)});
            sampled.run();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int done = 0; done < conversations; done += step) {
                    int from = done + 1;
                    int to = Math.min(conversations, done + step);
                    List<Callable<Void>> slices = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        int first = from + t;
                        slices.add(() -> {
                            for (int n = first; n <= to; n += THREADS) {
                                touch(engine, n, phases);
                            }
                            return null;
                        });
                    }
                    for (Future<Void> slice : pool.invokeAll(slices)) {
                        slice.get();
                    }
                    points.add(new double[] {to, usedMib(), fileMib(h2)});
                    sampled.run();
                    log.info(String.format(Locale.ROOT, "cache %d: %,d conversations, %.1f MiB, %.0f s (per conversation "
                                    + "and thread: create %.2f ms, send %.2f ms, stream %.2f ms)", cacheSize, to,
                            points.get(points.size() - 1)[1], (System.nanoTime() - started) / 1e9,
                            phases.get(0) / 1e6 / to, phases.get(1) / 1e6 / to, phases.get(2) / 1e6 / to));
                }
            } finally {
                pool.shutdownNow();
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    /** Conversation {@code n}: created by one of the users, then a send and a stream in it. */
    private static void touch(ConversationEngine engine, int n, AtomicLongArray phases) throws InterruptedException {
        int user = n % USERS;
        Caller caller = Caller.user("user-" + user, "org-" + (user % ORGANIZATIONS))
                .member("ws-" + (user % ORGANIZATIONS)).build();
        long t0 = System.nanoTime();
        Conversation c = engine.as(caller).create(NewConversation.inWorkspace("ws-" + (user % ORGANIZATIONS)).build());
        long t1 = System.nanoTime();
        Reply reply = c.send(Prompt.text(GovernanceBenchmark.PROMPT).build());
        if (!reply.text().equals(GovernanceBenchmark.REPLY)) {
            throw new IllegalStateException("unexpected reply in conversation " + n);
        }
        long t2 = System.nanoTime();
        StreamHandle stream = c.stream(Prompt.text(GovernanceBenchmark.PROMPT).build(), new StreamListener() {
            @Override
            public void onDelta(String delta) {
            }

            @Override
            public void onComplete(Reply r) {
            }

            @Override
            public void onError(RuntimeException error) {
                throw new IllegalStateException("a stream failed", error);
            }
        });
        if (!stream.await(Duration.ofSeconds(30))) {
            throw new IllegalStateException("a stream did not finish within 30 s");
        }
        phases.addAndGet(0, t1 - t0);
        phases.addAndGet(1, t2 - t1);
        phases.addAndGet(2, System.nanoTime() - t2);
    }

    private static double fileMib(Path file) throws IOException {
        return Files.size(file) / (1024.0 * 1024.0);
    }

    /** Heap in use after a full collection (twice, so that what the first one left to finalize is gone too). */
    private static double usedMib() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        System.gc();
        return memory.getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
    }
}
