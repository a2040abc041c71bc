package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.EngineServices;

import java.time.Clock;

/**
 * The engine's services as the pipeline of one turn sees them: its store is fenced, for a stream by its lock
 * ({@link LeaseFencedStore}), for a send against streams ({@link SendFencedStore}). Thread safe.
 */
final class FencedServices implements EngineServices {
    private final CoreServices services;
    private final ConversationStore store;
    private final dev.parley.api.spi.EngineListener listener;

    private final java.util.concurrent.ScheduledExecutorService leases;

    FencedServices(CoreServices services, ConversationStore fencedStore, dev.parley.api.spi.EngineListener listener,
                   dev.parley.api.spi.EngineListener.TurnContext context,
                   java.util.concurrent.ScheduledExecutorService leases) {
        this.services = services;
        this.leases = leases;
        this.listener = listener;
        this.store = new ObservedStore(fencedStore, listener, context, this);
    }

    /** Events a stage keeps for the turn's commit; guarded by itself. */
    private final java.util.List<AuditEvent> turnEvents = new java.util.ArrayList<>(0);

    @Override
    public void recordWithTurn(AuditEvent event) {
        java.util.Objects.requireNonNull(event, "event");
        synchronized (turnEvents) {
            turnEvents.add(event);
        }
    }

    /** The events kept for the turn's commit so far. */
    java.util.List<AuditEvent> turnEvents() {
        synchronized (turnEvents) {
            return java.util.List.copyOf(turnEvents);
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FencedServices.class);

    /**
     * The credit holds of the turn not yet charged by a commit, with their renewals (null when the engine was closing
     * and none could be scheduled); guarded by itself.
     */
    private final java.util.Map<String, java.util.concurrent.ScheduledFuture<?>> holds = new java.util.HashMap<>(2);
    /** The same holds' values, newest last; guarded by {@link #holds}. */
    private final java.util.List<dev.parley.api.credits.CreditHold> open = new java.util.ArrayList<>(2);
    /** Told of each turn record the store committed, after the commit; null for none. */
    private volatile java.util.function.Consumer<dev.parley.api.values.TurnRecord> onStored;

    /** The same services, telling {@code then} of each record committed (the engine counts rate-limit tokens). */
    FencedServices onStored(java.util.function.Consumer<dev.parley.api.values.TurnRecord> then) {
        this.onStored = then;
        return this;
    }

    @Override
    public java.util.Optional<dev.parley.api.credits.CreditHold> openHold() {
        synchronized (holds) {
            return open.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(open.get(open.size() - 1));
        }
    }

    @Override
    public void releaseHold(dev.parley.api.credits.CreditHold hold) {
        synchronized (holds) {
            java.util.concurrent.ScheduledFuture<?> renewal = holds.remove(hold.id());
            if (renewal != null) {
                renewal.cancel(false);
            }
            open.removeIf(h -> h.id().equals(hold.id()));
        }
        credits().ifPresent(ledger -> ledger.releaseHold(hold.id()));
    }

    @Override
    public java.util.Optional<dev.parley.api.spi.SummaryLog> summaries() {
        return services.summaries();
    }

    @Override
    public dev.parley.api.compaction.Compaction compaction() {
        return services.compaction();
    }

    @Override
    public java.util.Optional<dev.parley.api.spi.CreditLedger> credits() {
        return services.store() instanceof dev.parley.api.spi.CreditLedger ledger ? java.util.Optional.of(ledger)
                : java.util.Optional.empty();
    }

    @Override
    public void holdWithTurn(dev.parley.api.credits.CreditHold hold) {
        dev.parley.api.spi.CreditLedger ledger = credits().orElseThrow(
                () -> new IllegalStateException("the engine's store keeps no credits"));
        java.time.Duration lease = services.timeouts().claimLease();
        long every = Math.max(50, lease.toMillis() / 3);
        String id = hold.id();
        synchronized (holds) {
            if (holds.containsKey(id)) {
                return;
            }
            open.add(hold);
            try {
                holds.put(id, leases.scheduleWithFixedDelay(() -> renew(ledger, id, lease), every, every,
                        java.util.concurrent.TimeUnit.MILLISECONDS));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The engine is closing: no renewal, but the hold is still the turn's, released when it ends.
                holds.put(id, null);
            }
        }
    }

    private void renew(dev.parley.api.spi.CreditLedger ledger, String holdId, java.time.Duration lease) {
        boolean live;
        try {
            live = ledger.renewHold(holdId, java.time.Instant.now(), lease);
        } catch (RuntimeException e) {
            LOG.warn("Could not renew a credit hold; it lapses after {} unless a later renewal succeeds", lease, e);
            return;
        }
        if (!live) {
            synchronized (holds) {
                java.util.concurrent.ScheduledFuture<?> renewal = holds.get(holdId);
                if (renewal != null) {
                    renewal.cancel(false);
                }
            }
        }
    }

    /**
     * Ends the turn's credit holds: each one its commit did not charge is released (the turn stored nothing of it,
     * so it is charged nothing), and every renewal stops. Called once the turn's pipeline has returned or thrown.
     */
    void endTurn() {
        java.util.List<String> left;
        synchronized (holds) {
            if (holds.isEmpty()) {
                open.clear();
                return;
            }
            holds.values().forEach(r -> {
                if (r != null) {
                    r.cancel(false);
                }
            });
            left = java.util.List.copyOf(holds.keySet());
            holds.clear();
            open.clear();
        }
        dev.parley.api.spi.CreditLedger ledger = credits().orElseThrow();
        for (String id : left) {
            try {
                ledger.releaseHold(id);
            } catch (RuntimeException e) {
                LOG.warn("Could not release a credit hold; it lapses after {}", services.timeouts().claimLease(), e);
            }
        }
    }

    /** Hands the events stored with the turn to the host's sink, and its ALERT violations to the alert sink. */
    void stored(dev.parley.api.values.TurnRecord record) {
        if (record.charge() != null) {
            synchronized (holds) {
                String charged = record.charge().hold().id();
                java.util.concurrent.ScheduledFuture<?> renewal = holds.remove(charged);
                if (renewal != null) {
                    renewal.cancel(false);
                }
                open.removeIf(h -> h.id().equals(charged));
            }
        }
        java.util.function.Consumer<dev.parley.api.values.TurnRecord> then = onStored;
        if (then != null) {
            then.accept(record);
        }
        record.events().forEach(services::notifySink);
        for (dev.parley.api.policy.Violation v : record.violations()) {
            if (v.action() == dev.parley.api.policy.PolicyAction.ALERT) {
                services.alert(v);
            }
        }
    }

    /** The registry's version as the turn read it with its conversation; empty to read it when asked. */
    private volatile java.util.OptionalLong policyVersion = java.util.OptionalLong.empty();

    /** The same services, for a turn that read the registry's version with its conversation. */
    FencedServices withPolicyVersion(java.util.OptionalLong version) {
        this.policyVersion = version;
        return this;
    }

    /** The count of changes to the conversation's summaries the turn's first read found; empty when it did not say. */
    private volatile java.util.OptionalLong summariesVersion = java.util.OptionalLong.empty();

    /** The same services, for a turn whose first read counted the changes to its conversation's summaries. */
    FencedServices withSummariesVersion(java.util.OptionalLong version) {
        this.summariesVersion = version;
        return this;
    }

    @Override
    public java.util.Optional<dev.parley.api.compaction.Summary> latestSummary(String conversationId) {
        java.util.OptionalLong version = summariesVersion;
        if (version.isEmpty()) {
            return services.latestSummary(conversationId);
        }
        if (version.getAsLong() == 0) {
            return java.util.Optional.empty(); // none was ever stored: no read
        }
        return services.latestSummary(conversationId, version.getAsLong());
    }

    /** Whether credit accounts may apply, as the turn's first read found; true when it did not say. */
    private volatile boolean creditAccounts = true;

    /** The same services, for a turn whose first read said whether credit accounts may apply. */
    FencedServices withCreditAccounts(boolean mayApply) {
        this.creditAccounts = mayApply;
        return this;
    }

    @Override
    public boolean creditAccountsMayApply() {
        return creditAccounts;
    }

    @Override
    public java.util.List<dev.parley.api.policy.PolicyRule> policies(ConversationInfo conversation) {
        return services.policies(conversation, policyVersion);
    }

    @Override
    public dev.parley.api.spi.EngineListener listener() {
        return listener;
    }

    @Override
    public ConversationStore store() {
        return store;
    }

    @Override
    public Clock clock() {
        return services.clock();
    }

    @Override
    public String newId() {
        return services.newId();
    }

    @Override
    public ModelProvider model(String name, ConversationInfo conversation, String field) {
        return services.model(name, conversation, field);
    }

    @Override
    public TokenCounter tokenCounter(String modelName) {
        return services.tokenCounter(modelName);
    }

    @Override
    public int contextWindow(String name, ConversationInfo conversation) {
        return services.contextWindow(name, conversation);
    }

    @Override
    public SteeringResolver steeringResolver() {
        return services.steeringResolver();
    }

    @Override
    public void publish(AuditEvent event) {
        services.publish(event);
    }

    @Override
    public dev.parley.api.Timeouts timeouts() {
        return services.timeouts();
    }
}
