package dev.parley.micrometer;

import dev.parley.api.spi.EngineListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.observation.ObservationRegistry;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

/**
 * The metrics of one or more engines, as the {@link EngineListener.Factory} they are given:
 *
 * <pre>{@code
 * ParleyMetrics metrics = ParleyMetrics.builder(meterRegistry).build();
 * ConversationEngine engine = ConversationEngine.builder()
 *         .eventListenerFactory(metrics)
 *         ...
 *         .build();
 * }</pre>
 *
 * <p>It is also a {@link MeterBinder}, as hosts such as Spring Boot expect of what records meters: binding it to the
 * registry it was built with changes nothing, and binding it to another one records every meter there too (from
 * then on; counts and timings from before stay on the registries that had them). {@link #builder()} makes one bound
 * to no registry yet, which records nothing until {@link #bindTo bound}. Bind before turns run: a turn under way
 * while a new registry is bound may leave one of its counts off the new registry.
 *
 * <p>What it records, every meter tagged by {@code model} (and by {@code workspace} when the host asks for it with
 * {@link Builder#tagWorkspace()}: tag cardinality is the host's call):
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>other tags</th><th>what</th></tr>
 *   <tr><td>{@value #TURNS}</td><td>counter</td><td>outcome, streaming</td><td>turns by how they ended</td></tr>
 *   <tr><td>{@value #TURN}</td><td>observation (timer)</td><td>outcome, streaming</td><td>a turn's latency</td></tr>
 *   <tr><td>{@value #FIRST_DELTA}</td><td>timer</td><td></td><td>from a stream's start to its first delta</td></tr>
 *   <tr><td>{@value #STAGE}</td><td>observation (timer)</td><td>stage</td><td>each pipeline stage, the stages
 *       inside it included</td></tr>
 *   <tr><td>{@value #MODEL_CALL}</td><td>observation (timer)</td><td>outcome</td><td>the provider call</td></tr>
 *   <tr><td>{@value #TOKENS}</td><td>counter</td><td>type ({@code input}, {@code output})</td><td>the settled
 *       tokens of committed turns</td></tr>
 *   <tr><td>{@value #CREDITS}</td><td>counter</td><td></td><td>credits charged by committed turns</td></tr>
 *   <tr><td>{@value #POLICY_FINDINGS}</td><td>counter</td><td>policy, action, phase</td><td>findings of each
 *       policy rule</td></tr>
 *   <tr><td>{@value #POLICY_UNEVALUATED}</td><td>counter</td><td>policy, phase</td><td>checks that threw or ran
 *       past their budget</td></tr>
 *   <tr><td>{@value #REFUSALS}</td><td>counter</td><td>reason ({@code BUDGET_EXCEEDED}, {@code RATE_LIMITED},
 *       {@code POLICY_BLOCKED}, {@code CONVERSATION_LOCKED})</td><td>turns refused</td></tr>
 *   <tr><td>{@value #REPLAYS}</td><td>counter</td><td></td><td>turns answered from the store</td></tr>
 *   <tr><td>{@value #ACTIVE_STREAMS}</td><td>gauge</td><td>(no model tag)</td><td>streams holding their
 *       conversation's lock</td></tr>
 * </table>
 *
 * <p>An outcome is the reply's status ({@code COMPLETE}, {@code CANCELLED}), {@code REPLAYED}, or the
 * {@link dev.parley.api.ErrorCode} of the failure ({@code INTERNAL} for an exception that has none); a model call's
 * is {@code OK} or its error code. Observations also carry the conversation and message ids as high-cardinality
 * values, which meters ignore and a tracing bridge puts on its spans. No name, tag or value carries a prompt or a
 * reply.
 *
 * <p>Turns, stages and model calls are observations on the {@link Builder#observationRegistry ObservationRegistry}
 * the host gives: its handlers make the timers (a {@code DefaultMeterObservationHandler}) and, with a tracing bridge,
 * the spans, one instrumentation for both; a turn's observation is a child of the one current where it is sent, its
 * stages and model call children of it, also on a stream's thread. None is ever made current, so that none can stay
 * behind on a host's thread. A host that gives no observation registry wants no traces: then this object times them
 * itself on the meter registry, under the same names and tags, with percentiles and a histogram, at a fraction of an
 * observation's cost.
 *
 * <p>Thread safe: one instance serves any number of turns and engines at once.
 */
public final class ParleyMetrics implements EngineListener.Factory, MeterBinder {
    /** Turns, by outcome. */
    public static final String TURNS = "parley.turns";
    /** A turn, from its start to its end. */
    public static final String TURN = "parley.turn";
    /** From a stream's start to its first delta. */
    public static final String FIRST_DELTA = "parley.turn.first.delta";
    /** A stage of the pipeline. */
    public static final String STAGE = "parley.stage";
    /** The provider call. */
    public static final String MODEL_CALL = "parley.model.call";
    /** Settled tokens of committed turns. */
    public static final String TOKENS = "parley.tokens";
    /** Credits charged by committed turns. */
    public static final String CREDITS = "parley.credits.charged";
    /** Findings of policy rules. */
    public static final String POLICY_FINDINGS = "parley.policy.findings";
    /** Policy checks that threw or ran past their time budget. */
    public static final String POLICY_UNEVALUATED = "parley.policy.unevaluated";
    /** Turns refused by a budget, a rate limit, a policy or a stream's lock. */
    public static final String REFUSALS = "parley.refusals";
    /** Turns answered from the store without a model call. */
    public static final String REPLAYS = "parley.replays";
    /** Streams holding their conversation's lock. */
    public static final String ACTIVE_STREAMS = "parley.streams.active";

    /** Where counters and timers are registered, with the meters already looked up there; replaced by bindTo. */
    private volatile Target target;
    /** The composite of every bound registry, once there are two or none was given; guarded by this. */
    private @Nullable CompositeMeterRegistry composite;
    /** The host's registry, or null when this object times turns, stages and model calls itself. */
    private final @Nullable ObservationRegistry observations;
    private final boolean tagWorkspace;
    private final double[] percentiles;
    private final AtomicInteger activeStreams = new AtomicInteger();

    private ParleyMetrics(Builder b) {
        this.tagWorkspace = b.tagWorkspace;
        this.percentiles = b.percentiles == null ? new double[]{0.5, 0.95, 0.99} : b.percentiles;
        this.observations = b.observations;
        MeterRegistry meters = b.meters;
        if (meters == null) {
            CompositeMeterRegistry none = new CompositeMeterRegistry();
            this.composite = none;
            meters = none;
        }
        registerGauge(meters);
        this.target = new Target(meters);
    }

    /** A builder recording on {@code meters}. */
    public static Builder builder(MeterRegistry meters) {
        return new Builder(Objects.requireNonNull(meters, "meters"));
    }

    /**
     * A builder of metrics bound to no registry yet, for a host that {@link #bindTo binds} them itself: until then
     * they record nothing.
     */
    public static Builder builder() {
        return new Builder(null);
    }

    private void registerGauge(MeterRegistry registry) {
        Gauge.builder(ACTIVE_STREAMS, activeStreams, AtomicInteger::get)
                .description("Streams holding their conversation's lock")
                .strongReference(true)
                .register(registry);
    }

    /**
     * Records every meter on {@code registry} too, from now on: nothing changes when it is already bound (the
     * registry given to {@link #builder(MeterRegistry)} is). Thread safe; best called before turns run.
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        CompositeMeterRegistry all = composite;
        if (all != null) {
            // A composite hands the meters it already has to a registry added to it, and ignores one added twice.
            all.add(registry);
            return;
        }
        MeterRegistry only = target.registry;
        if (registry == only) {
            return;
        }
        all = new CompositeMeterRegistry();
        all.add(only);
        all.add(registry);
        registerGauge(all);
        composite = all;
        target = new Target(all);
    }

    /** The listener of one turn. */
    @Override
    public EngineListener create(EngineListener.TurnContext turn) {
        return new TurnMetrics(this, turn);
    }

    /** The registry counters and timers are registered on: the one given, or a composite of every bound one. */
    MeterRegistry meters() {
        return target.registry;
    }

    @Nullable ObservationRegistry observations() {
        return observations;
    }

    boolean tagWorkspace() {
        return tagWorkspace;
    }

    AtomicInteger activeStreams() {
        return activeStreams;
    }

    /** The counter of this name and tags (tag keys and values alternating). */
    Counter counter(String name, String... tags) {
        MeterKey key = new MeterKey(name, tags);
        Target t = target;
        Counter c = t.counters.get(key);
        return c != null ? c
                : t.counters.computeIfAbsent(key, k -> Counter.builder(name).tags(tags).register(t.registry));
    }

    /** The timer of this name and tags (keys and values alternating), with the percentiles and a histogram. */
    Timer timer(String name, String... tags) {
        MeterKey key = new MeterKey(name, tags);
        Target t = target;
        Timer timer = t.timers.get(key);
        return timer != null ? timer : t.timers.computeIfAbsent(key, k -> Timer.builder(name).tags(tags)
                .publishPercentiles(percentiles).publishPercentileHistogram().register(t.registry));
    }

    @Override
    public String toString() {
        return "ParleyMetrics[" + target.registry.getClass().getSimpleName()
                + (tagWorkspace ? ", by workspace]" : "]");
    }

    /**
     * A registry and the meters looked up on it by name and tags, so that a turn finds each without building an id;
     * replaced as a whole when a registry is bound, so that no meter of the previous registry is cached anew.
     */
    private static final class Target {
        final MeterRegistry registry;
        final ConcurrentMap<MeterKey, Counter> counters = new ConcurrentHashMap<>();
        final ConcurrentMap<MeterKey, Timer> timers = new ConcurrentHashMap<>();

        Target(MeterRegistry registry) {
            this.registry = registry;
        }
    }

    /** A meter's name and tags, as a map key. */
    private record MeterKey(String name, java.util.List<String> tags) {
        MeterKey(String name, String[] tags) {
            this(name, Arrays.asList(tags));
        }
    }

    /**
     * Configures {@link ParleyMetrics}; each option may be set once. Not thread safe: build on one thread.
     */
    public static final class Builder {
        private final @Nullable MeterRegistry meters;
        private @Nullable ObservationRegistry observations;
        private boolean tagWorkspace;
        private boolean tagWorkspaceSet;
        private double @Nullable [] percentiles;

        private Builder(@Nullable MeterRegistry meters) {
            this.meters = meters;
        }

        /**
         * Makes the turn, stage and model-call observations on the host's registry, whose handlers then make the
         * timers (a {@code DefaultMeterObservationHandler}) and spans (a tracing bridge); by default they are timed
         * directly on the meter registry, with no observation.
         *
         * @throws IllegalStateException when already set
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            Objects.requireNonNull(registry, "registry");
            if (observations != null) {
                throw new IllegalStateException("observationRegistry was already set to " + observations);
            }
            this.observations = registry;
            return this;
        }

        /**
         * Tags every meter of a turn with its conversation's {@code workspace} too: one series per workspace,
         * which only the host can say it can afford. Off by default.
         *
         * @throws IllegalStateException when already set
         */
        public Builder tagWorkspace() {
            if (tagWorkspaceSet) {
                throw new IllegalStateException("tagWorkspace was already set");
            }
            tagWorkspaceSet = true;
            tagWorkspace = true;
            return this;
        }

        /**
         * The percentiles the timers this object makes publish (0.5, 0.95 and 0.99 unless set); they also publish a
         * histogram. Timers a host's observation handlers make are configured by the host.
         *
         * @throws IllegalArgumentException when one is not in (0, 1]
         * @throws IllegalStateException when already set
         */
        public Builder percentiles(double... values) {
            Objects.requireNonNull(values, "values");
            if (percentiles != null) {
                throw new IllegalStateException("percentiles were already set to " + Arrays.toString(percentiles));
            }
            for (double p : values) {
                if (!(p > 0 && p <= 1)) {
                    throw new IllegalArgumentException("a percentile must be in (0, 1]: " + p);
                }
            }
            this.percentiles = values.clone();
            return this;
        }

        /** The metrics, with their active-streams gauge registered. */
        public ParleyMetrics build() {
            return new ParleyMetrics(this);
        }
    }
}
