package dev.parley.samples.server;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.samples.server.config.ServerConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The in-process side of the HTTP benchmark: the turns {@code POST .../messages} runs, sent straight to the engine
 * that {@code serve --config FILE} builds (the same store settings, models, policies and credits), by
 * {@code --threads} threads in a closed loop over {@code --conversations} conversations of one member, each turn a
 * realistic 40-word message with a fresh id. Prints turns per second and the median and 99th percentile of a turn,
 * in the form the benchmark script reads. Not part of the library; run with
 * {@code java -cp samples/target/parley-samples.jar dev.parley.samples.server.InProcessLoad --data DIR --config FILE}.
 */
public final class InProcessLoad {
    /** The message every benchmark turn sends: about 40 words, like a support question. */
    public static final String MESSAGE = "Hi, I upgraded our team to the business plan yesterday but two of my"
            + " colleagues still see the old limits when they export reports. We already signed out and back in."
            + " Could you check whether the change reached their accounts, and tell me how long it usually takes?";

    private InProcessLoad() {
    }

    /** {@code --data DIR [--config FILE] [--threads N] [--seconds S] [--warmup S] [--conversations C]}. */
    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options = options(args);
        Path data = Path.of(required(options, "--data"));
        int threads = Integer.parseInt(options.getOrDefault("--threads", "8"));
        int seconds = Integer.parseInt(options.getOrDefault("--seconds", "20"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "5"));
        int conversations = Integer.parseInt(options.getOrDefault("--conversations", "64"));
        String file = options.get("--config");
        ServerConfig config = SampleEngine.config(file == null ? null : Path.of(file), System::getenv);
        try (SampleEngine sample = SampleEngine.open(config, data, System::getenv, Map.of())) {
            run(sample.engine(), threads, warmup, seconds, conversations, System.out);
        }
    }

    private static void run(ConversationEngine engine, int threads, int warmup, int seconds, int count,
                            PrintStream out) throws InterruptedException {
        Caller alice = Caller.user("alice", "acme").member("support").build();
        List<Conversation> conversations = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            conversations.add(engine.as(alice).create(NewConversation.inWorkspace("support").build()));
        }
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        long[][] latencies = new long[threads][];
        int[] counts = new int[threads];
        CountDownLatch done = new CountDownLatch(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread worker = new Thread(() -> {
                long[] mine = new long[1 << 16];
                int n = 0;
                long turn = 0;
                try {
                    while (!stop.get()) {
                        Conversation c = conversations.get((int) ((me + turn * threads) % conversations.size()));
                        long start = System.nanoTime();
                        c.send(Prompt.text(MESSAGE).id("load-" + me + "-" + turn++).build());
                        long took = System.nanoTime() - start;
                        if (measuring.get()) {
                            if (n == mine.length) {
                                mine = Arrays.copyOf(mine, n * 2);
                            }
                            mine[n++] = took;
                        }
                    }
                } finally {
                    latencies[me] = mine;
                    counts[me] = n;
                    done.countDown();
                }
            }, "load-" + t);
            workers.add(worker);
            worker.start();
        }
        Thread.sleep(warmup * 1000L);
        measuring.set(true);
        long begin = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        measuring.set(false);
        long elapsed = System.nanoTime() - begin;
        stop.set(true);
        done.await();
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        out.printf(Locale.ROOT, "turns %d%nturns/s %.1f%np50_ms %.3f%np99_ms %.3f%n", total,
                total / (elapsed / 1e9), percentile(all, 0.50) / 1e6, percentile(all, 0.99) / 1e6);
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected an option, got " + args[i]);
            }
            options.put(args[i], args[i + 1]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return value;
    }
}
