package dev.parley.policy.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon threads that judge calls run on, so that a check can stop waiting at its deadline; made on first
 * use, never at class load of the policies. Not API.
 */
public final class JudgeThreads {
    private JudgeThreads() {
    }

    /** The shared pool: cached daemon threads named {@code parley-judge-N}. */
    public static ExecutorService pool() {
        return Holder.POOL;
    }

    private static final class Holder {
        private static final AtomicInteger COUNT = new AtomicInteger();
        private static final ThreadFactory FACTORY = r -> {
            Thread t = new Thread(r, "parley-judge-" + COUNT.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        static final ExecutorService POOL = Executors.newCachedThreadPool(FACTORY);
    }
}
