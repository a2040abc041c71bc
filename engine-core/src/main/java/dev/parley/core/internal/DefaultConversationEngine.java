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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
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
    /** The index of the first stage inside the provider boundary: stages from there on may proceed repeatedly. */
    private final int modelBoundary;
    /** The engine's rate limits, or null when it has none. */
    private final RateLimiting rateLimiting;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Waits, after cancel, before interrupting streams at close; and again, after interrupting them. */
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** The engine's own stream pool, or null when the host gave an executor (which the engine leaves alone). */
    private final ExecutorService ownStreamThreads;
    /** Runs streams, one task each for the whole turn. */
    private final Executor streamThreads;
    /** Renews stream leases and looks for cancel requests made through other engines. */
    private final ScheduledExecutorService leases;
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
        storePrices(config, store);
        this.rateLimiting = RateLimiting.of(config.rateLimits(), store, config.clock());
        this.stages = config.pipeline().stages();
        this.modelBoundary = config.pipeline().indexOf(dev.parley.api.PromptPipeline.Position.BEFORE_MODEL_CALL)
                .orElse(stages.size());
        if (config.configuredStreamExecutor().isPresent()) {
            this.ownStreamThreads = null;
            this.streamThreads = config.configuredStreamExecutor().get();
        } else {
            // Bounded: streams beyond the threads wait in the queue, their leases kept by the lease threads.
            ThreadPoolExecutor pool = new ThreadPoolExecutor(ConversationEngine.Builder.DEFAULT_STREAM_THREADS,
                    ConversationEngine.Builder.DEFAULT_STREAM_THREADS, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemon("parley-stream-"));
            pool.allowCoreThreadTimeOut(true);
            this.ownStreamThreads = pool;
            this.streamThreads = pool;
        }
        // Several threads, so that one slow store call does not hold up the renewal of every other lease.
        ScheduledThreadPoolExecutor leaseThreads = new ScheduledThreadPoolExecutor(LEASE_THREADS, daemon("parley-lease-"));
        leaseThreads.setRemoveOnCancelPolicy(true);
        this.leases = leaseThreads;
        if (config.compaction().enabled()) {
            if (!(store instanceof dev.parley.api.spi.SummaryLog log)) {
                leaseThreads.shutdownNow();
                if (ownStreamThreads != null) {
                    ownStreamThreads.shutdownNow();
                }
                throw new IllegalStateException("compaction is on, but the store keeps no summaries: "
                        + store.getClass().getSimpleName() + " is no SummaryLog");
            }
            this.compactor = new Compactor(config.compaction(), services, log, leaseThreads, daemon("parley-compaction-"));
        } else {
            this.compactor = null;
        }
    }

    /** Summarizes conversations after their turns; null when compaction is off. */
    private final @org.jspecify.annotations.Nullable Compactor compactor;

    /** Hands a stored turn to compaction, when it is on. */
    void afterTurn(dev.parley.api.values.TurnResult result) {
        if (compactor != null) {
            compactor.afterTurn(result);
        }
    }

    /** Threads that renew stream leases. */
    private static final int LEASE_THREADS = 2;

    boolean isClosed() {
        return closed.get();
    }

    @Override
    public Conversations as(Caller caller) {
        Objects.requireNonNull(caller, "caller");
        checkOpen();
        return new CallerConversations(caller, this);
    }

    /** Stores the prices the host set in code, for each model the store has none for yet. */
    private void storePrices(EngineConfig config, ConversationStore store) {
        if (config.prices().isEmpty()) {
            return;
        }
        if (!(store instanceof dev.parley.api.spi.CreditLedger ledger)) {
            throw new IllegalStateException("credit prices were given, but the store keeps no credits: "
                    + store.getClass().getSimpleName() + " is no CreditLedger");
        }
        config.prices().forEach((model, price) -> {
            if (!ledger.putPrice(model, price, true, services.clock().instant())) {
                ledger.price(model).filter(stored -> !stored.equals(price)).ifPresent(stored -> LOG.warn(
                        "Model {} keeps its stored credit price {}, not the price {} set in code: a price changed "
                                + "at run time wins; set it with engine.credits().setPrice", model, stored, price));
            }
        });
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

    @Override
    public dev.parley.api.CreditAccounts credits() {
        checkOpen();
        if (!(services.store() instanceof dev.parley.api.spi.CreditLedger ledger)) {
            throw new IllegalStateException("the engine's store keeps no credits: "
                    + services.store().getClass().getSimpleName() + " is no CreditLedger");
        }
        return new StoreCreditAccounts(ledger, services.clock(), services::newId,
                model -> !services.allNamed(model).isEmpty(), this::checkOpen);
    }

    @Override
    public dev.parley.api.Maintenance maintenance() {
        checkOpen();
        return new EngineMaintenance(services, this::checkOpen);
    }

    @Override
    public dev.parley.api.Policies policies() {
        checkOpen();
        RegistryRules rules = services.registryRules();
        dev.parley.api.spi.PolicyRegistry registry = rules.registry();
        return new dev.parley.api.Policies() {
            @Override
            public List<dev.parley.api.policy.PolicySpec> list() {
                checkOpen();
                return registry.policySpecs();
            }

            @Override
            public void put(dev.parley.api.policy.PolicySpec spec) {
                checkOpen();
                if (spec == null) {
                    throw new dev.parley.api.InvalidRequestException("spec", "is required");
                }
                rules.check(spec);
                registry.putPolicy(spec);
                LOG.info("Policy rule {} of kind {} put in the registry ({}, {})", spec.id(), spec.kind(),
                        spec.action(), spec.enabled() ? "enabled" : "disabled");
            }

            @Override
            public boolean remove(String id) {
                checkOpen();
                dev.parley.api.internal.Checks.id("id", id);
                boolean removed = registry.removePolicy(id);
                if (removed) {
                    LOG.info("Policy rule {} removed from the registry", id);
                }
                return removed;
            }
        };
    }

    /** True the first time it is asked about this failure (this exact exception object), false after. */
    boolean firstReportOf(Throwable failure) {
        return recordedFailures.putIfAbsent(failure, Boolean.TRUE) == null;
    }

    CoreServices services() {
        return services;
    }

    /** The engine's rate limits, or null when it has none. */
    RateLimiting rateLimiting() {
        return rateLimiting;
    }

    int modelBoundary() {
        return modelBoundary;
    }

    List<PromptStage> stages() {
        return stages;
    }

    Executor streamThreads() {
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
            t.setUncaughtExceptionHandler((thread, e) -> LOG.error("{} died of an uncaught throwable", thread.getName(), e));
            return t;
        };
    }

    /**
     * Cancels running streams, which store what they have (CANCELLED) and release their locks; interrupts those
     * that have not ended after {@link #CLOSE_WAIT_NANOS}, and waits as long again; then releases the locks of
     * any still running and fails them, so that every stream has its terminal event; only then closes the store.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<StreamRun> running = List.copyOf(streams.values());
        running.forEach(StreamRun::cancel);
        List<StreamRun> left = awaitStreams(running);
        if (!left.isEmpty()) {
            LOG.warn("{} stream(s) still running {} s after their cancel at close; interrupting them", left.size(),
                    TimeUnit.NANOSECONDS.toSeconds(CLOSE_WAIT_NANOS));
            left.forEach(StreamRun::interruptForClose);
            left = awaitStreams(left);
        }
        for (StreamRun run : left) {
            LOG.warn("A stream of conversation {} did not end at close; releasing its lock and failing it",
                    run.conversationId());
            try {
                services.store().releaseStreamLock(run.conversationId(), run.holder());
            } catch (RuntimeException e) {
                LOG.warn("Could not release the stream lock of conversation {}", run.conversationId(), e);
            }
            run.fail(new IllegalStateException("the engine closed before the stream of conversation "
                    + run.conversationId() + " ended"));
        }
        if (ownStreamThreads != null) {
            ownStreamThreads.shutdownNow();
        }
        if (compactor != null) {
            compactor.close();
        }
        leases.shutdownNow();
        try {
            services.store().close();
        } catch (Exception e) {
            LOG.warn("Closing the conversation store failed", e);
        }
    }

    /** Waits up to {@link #CLOSE_WAIT_NANOS} for the streams to end; returns those that did not. */
    private static List<StreamRun> awaitStreams(List<StreamRun> runs) {
        long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
        List<StreamRun> left = new ArrayList<>();
        boolean interrupted = false;
        for (StreamRun run : runs) {
            long remaining = Math.max(0, deadline - System.nanoTime());
            try {
                if (!run.await(Duration.ofNanos(remaining))) {
                    left.add(run);
                }
            } catch (InterruptedException e) {
                interrupted = true;
                left.add(run);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return left;
    }
}
