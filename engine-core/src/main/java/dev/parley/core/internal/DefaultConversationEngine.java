package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Conversations;
import dev.parley.api.EngineConfig;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.core.InMemoryConversationStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** The engine of engine-core. Thread safe. */
final class DefaultConversationEngine implements ConversationEngine {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultConversationEngine.class);

    private final EngineConfig config;
    private final CoreServices services;
    private final List<PromptStage> stages;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Runs streams, one thread each; daemon threads, so an engine left open does not keep the JVM alive. */
    private final ExecutorService streamThreads = Executors.newCachedThreadPool(daemon("parley-stream-"));
    /** Renews stream leases and looks for cancel requests made through other engines. */
    private final ScheduledExecutorService leases = Executors.newSingleThreadScheduledExecutor(daemon("parley-lease-"));
    /**
     * Turn failures already recorded as TURN_FAILED, by identity: concurrent sends of one message id share one run
     * and receive its exception, and that one failure is recorded once. Weak, so a failure is forgotten with it.
     */
    private final java.util.Map<Throwable, Boolean> recordedFailures =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** The streams this engine runs, by conversation. */
    private final ConcurrentMap<String, StreamRun> streams = new ConcurrentHashMap<>();

    DefaultConversationEngine(EngineConfig config) {
        this.config = config;
        ConversationStore store = config.configuredStore().orElseGet(() -> {
            LOG.info("No conversation store configured: conversations are kept in memory and lost when the engine closes");
            return new InMemoryConversationStore();
        });
        this.services = new CoreServices(config, store);
        this.stages = config.pipeline().stages();
    }

    @Override
    public Conversations as(Caller caller) {
        Objects.requireNonNull(caller, "caller");
        checkOpen();
        return new CallerConversations(caller, this);
    }

    /**
     * Refuses work once {@link #close()} has begun: every call on a {@code Conversations} or a {@code Conversation}
     * of a closed engine fails with the same {@link IllegalStateException}, on every store.
     */
    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the engine is closed");
        }
    }

    @Override
    public EngineConfig config() {
        return config;
    }

    /** True the first time it is asked about this failure (this exact exception object), false after. */
    boolean firstReportOf(Throwable failure) {
        return recordedFailures.putIfAbsent(failure, Boolean.TRUE) == null;
    }

    CoreServices services() {
        return services;
    }

    List<PromptStage> stages() {
        return stages;
    }

    ExecutorService streamThreads() {
        return streamThreads;
    }

    ScheduledExecutorService leases() {
        return leases;
    }

    ConcurrentMap<String, StreamRun> streams() {
        return streams;
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Cancels running streams (they store what they have), waits a little for them to finish, then closes the
     * store.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            streams.values().forEach(StreamRun::cancel);
            streamThreads.shutdown();
            try {
                if (!streamThreads.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("Streams still running at close; closing the store under them");
                    streamThreads.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                streamThreads.shutdownNow();
            }
            leases.shutdownNow();
            try {
                services.store().close();
            } catch (Exception e) {
                LOG.warn("Closing the conversation store failed", e);
            }
        }
    }
}
