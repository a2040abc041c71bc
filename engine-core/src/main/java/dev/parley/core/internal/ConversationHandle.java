package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ErrorCode;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Steering;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import dev.parley.api.values.TurnStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** A caller's handle on one conversation; holds only the id and reads fresh state on every call. Thread safe. */
final class ConversationHandle implements Conversation {
    private static final Logger LOG = LoggerFactory.getLogger(ConversationHandle.class);
    /** Errors that refuse a request before any turn starts: not worth a TURN_FAILED event. */
    private static final Set<ErrorCode> REFUSALS =
            EnumSet.of(ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.INVALID_REQUEST, ErrorCode.CONVERSATION_LOCKED,
                    // A policy's refusal: the policy stage records it with the settled turn (PROMPT_BLOCKED, ...).
                    ErrorCode.POLICY_BLOCKED);

    private final String id;
    private final Caller caller;
    private final DefaultConversationEngine engine;
    private final CoreServices services;

    ConversationHandle(String id, Caller caller, DefaultConversationEngine engine) {
        this.id = id;
        this.caller = caller;
        this.engine = engine;
        this.services = engine.services();
    }

    @Override
    public String id() {
        return id;
    }

    /** How often an export reads again when turns keep committing while it reads. */
    private static final int EXPORT_ATTEMPTS = 5;

    @Override
    public ConversationInfo info() {
        return load();
    }

    @Override
    public Reply send(Prompt prompt) {
        Objects.requireNonNull(prompt, "prompt");
        engine.checkOpen();
        // One read for the conversation and its stream lock; refused in the same order as stream(): access,
        // then the request's fields, then the stream lock.
        ConversationStore.ConversationState state = CallerConversations.loadVisibleWithStreams(services, caller, id);
        ConversationInfo info = state.conversation();
        if (!AccessRules.canSend(caller, info)) {
            throw new dev.parley.api.AccessDeniedException(caller.userId(), "send in conversation " + id);
        }
        Turn turn = newTurn(prompt, info, null);
        ConversationStore.StreamStatus streams = state.streams();
        if (streams.lock().isPresent()) {
            throw new ConversationLockedException(id, "a stream is active");
        }
        EngineListener.TurnContext context = turn.context();
        EngineListener listener = SafeListener.forTurn(engine.config().listenerFactory(), context);
        listener.turnStart(context);
        RateLimiting limits = engine.rateLimiting();
        if (limits != null) {
            try {
                // A turn refused by a rate limit is reported, as a stream's is: turnStart, then turnFailed.
                limits.admit(caller, info);
            } catch (RuntimeException e) {
                listener.turnFailed(context, e);
                throw e;
            }
        }
        TurnResult result;
        try {
            // The check above and the commit bracket the turn: a stream that starts or runs meanwhile makes the
            // store refuse this turn's commit, so that a send and a stream never both store turns run side by side.
            result = run(turn, info, new FencedServices(services,
                    new SendFencedStore(services.store(), streams.streamsEnded()), listener, context, engine.leases())
                    .withPolicyVersion(state.policyVersion())
                    .withCreditAccounts(state.creditAccounts()).withSummariesVersion(state.summariesVersion())
                    .onStored(record -> usedTokens(info, record)));
        } catch (RuntimeException e) {
            listener.turnFailed(context, e);
            throw e;
        }
        listener.turnEnd(context, result.status(), result.replayed());
        return toReply(prompt, info, result);
    }

    /** The turn for a prompt: its model (prompt, else conversation, else engine default), id, budget and time. */
    private Turn newTurn(Prompt prompt, ConversationInfo info, TurnStream stream) {
        String model;
        if (prompt.model().isPresent()) {
            model = prompt.model().get();
            services.model(model, info, "model");
        } else if (info.modelName() != null) {
            model = info.modelName();
            services.model(model, info, "modelName");
        } else {
            model = engine.config().defaultModel();
        }
        // The history budget is capped by the model's window: a caller cannot make a turn's cost grow with the
        // conversation by asking for more history than the model could take.
        int window = services.contextWindow(model, info);
        int contextSize;
        if (prompt.contextSize().isPresent()) {
            contextSize = prompt.contextSize().getAsInt();
            if (contextSize > window) {
                throw new InvalidRequestException("contextSize", "must be at most " + window
                        + ", the context window of model " + model);
            }
        } else {
            contextSize = Math.min(engine.config().defaultContextSize(), window);
        }
        java.time.Instant now = services.clock().instant();
        java.time.Instant createdAt = prompt.createdAt()
                .map(t -> dev.parley.api.internal.Checks.clientTime("createdAt", t, now)).orElse(now);
        String promptId = stream instanceof StreamRun run ? run.promptId() : prompt.id().orElseGet(services::newId);
        return new Turn(info, caller, prompt, promptId, model, contextSize, createdAt, stream);
    }

    /** Runs the pipeline; a failure of the turn itself is recorded as an audit event and rethrown. */
    private TurnResult run(Turn turn, ConversationInfo info, dev.parley.api.values.EngineServices pipelineServices) {
        TurnResult result;
        try {
            result = StageChain.run(engine.stages(), engine.modelBoundary(), turn, pipelineServices);
        } catch (ParleyException e) {
            endTurn(pipelineServices);
            if (!REFUSALS.contains(e.code()) && engine.firstReportOf(e)) {
                recordFailure(info, turn.promptId(), e.code().name());
            }
            throw e;
        } catch (RuntimeException | Error e) {
            endTurn(pipelineServices);
            if (engine.firstReportOf(e)) {
                recordFailure(info, turn.promptId(), "INTERNAL");
            }
            throw e;
        }
        endTurn(pipelineServices);
        if (result.messageId().isEmpty() || result.usage().isEmpty() || result.createdAt().isEmpty()) {
            throw new IllegalStateException("the pipeline answered without storing the turn: "
                    + "it needs a PersistStage and an AccountingStage, as in PromptPipeline.defaults()");
        }
        engine.afterTurn(result);
        return result;
    }

    /** Counts a stored turn's tokens (a blocked one's too) against the engine's rate limits. */
    private void usedTokens(ConversationInfo info, dev.parley.api.values.TurnRecord record) {
        RateLimiting limits = engine.rateLimiting();
        if (limits != null) {
            limits.used(caller, info, record.usage().tokensIn() + record.usage().tokensOut());
        }
    }

    /** Frees what the turn held and its commit did not charge. */
    private static void endTurn(dev.parley.api.values.EngineServices pipelineServices) {
        if (pipelineServices instanceof FencedServices fenced) {
            fenced.endTurn();
        }
    }

    private static Reply toReply(Prompt prompt, ConversationInfo info, TurnResult result) {
        String text = prompt.plaintext() ? Plaintext.of(result.text()) : result.text();
        return new Reply(info.id(), result.turn().promptId(), result.messageId().orElseThrow(), text, result.model(),
                result.usage().orElseThrow(), result.credits(), result.status(), result.replayed(),
                result.createdAt().orElseThrow(), result.policyOutcomes());
    }

    private void recordFailure(ConversationInfo info, String promptId, String code) {
        try {
            services.publish(CallerConversations.event(AuditEvent.Type.TURN_FAILED, info, caller.userId(),
                    "code=" + code + " message=" + promptId, services));
        } catch (RuntimeException e) {
            LOG.warn("Could not record the failure of a turn in conversation {}", info.id(), e);
        }
    }

    @Override
    public StreamHandle stream(Prompt prompt, StreamListener listener) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(listener, "listener");
        ConversationInfo info = load();
        if (!AccessRules.canSend(caller, info)) {
            // Refused at once, like a locked conversation, rather than through the listener.
            throw new dev.parley.api.AccessDeniedException(caller.userId(), "send in conversation " + id);
        }
        StreamRun run = new StreamRun(id, prompt.id().orElseGet(services::newId), listener, prompt.plaintext());
        Turn turn = newTurn(prompt, info, run);
        String holder = StreamHolders.holder(run.promptId());
        Duration lease = engine.config().timeouts().streamLease();
        engine.checkOpen(); // again: the engine may have closed while the turn was prepared
        EngineListener.TurnContext context = turn.context();
        EngineListener engineListener = SafeListener.forTurn(engine.config().listenerFactory(), context);
        engineListener.turnStart(context);
        RateLimiting limits = engine.rateLimiting();
        if (limits != null) {
            try {
                // Before the lock: a refused stream never holds the conversation, even for a moment.
                limits.admit(caller, info);
            } catch (RuntimeException e) {
                engineListener.turnFailed(context, e);
                throw e;
            }
        }
        boolean locked;
        try {
            locked = services.store().acquireStreamLock(id, holder, services.clock().instant(), lease);
        } catch (RuntimeException e) {
            engineListener.turnFailed(context, e);
            throw e;
        }
        if (!locked) {
            ConversationLockedException refused = new ConversationLockedException(id, "another stream is active");
            engineListener.turnFailed(context, refused);
            throw refused;
        }
        engineListener.streamLockAcquired(context);
        run.observe(engineListener, context);
        run.holdLock(holder, services.store(), services.clock(), lease);
        engine.streams().put(id, run);
        // The lease is kept from now on, also while the stream waits for a thread of the executor. The keeper runs
        // at least every CANCEL_POLL so that a cancel asked through another engine lands within it; it renews the
        // lease every third of the lease.
        long renewEvery = Math.max(10, lease.toMillis() / 3);
        long every = Math.min(renewEvery, CANCEL_POLL_MILLIS);
        ScheduledFuture<?> keeper;
        try {
            long[] renewedAt = {System.nanoTime()};
            keeper = engine.leases().scheduleWithFixedDelay(() -> keepLease(run, holder, lease, renewedAt, renewEvery),
                    every, every, TimeUnit.MILLISECONDS);
            engine.streamThreads().execute(() -> runStream(turn, info, run, holder, lease, keeper, engineListener, context));
        } catch (RejectedExecutionException e) {
            engine.streams().remove(id, run);
            services.store().yieldStreamLock(id, holder); // no turn ran
            engineListener.streamLockReleased(context);
            IllegalStateException refused = new IllegalStateException(engine.isClosed() ? "the engine is closed"
                    : "the stream executor refused the stream", e);
            engineListener.turnFailed(context, refused);
            throw refused;
        }
        return run;
    }

    /**
     * The body of a stream's thread: keeps the lease, runs the turn, unlocks, then tells the listener. Every path
     * ends in exactly one terminal event: an {@link Error} thrown by a stage or the model is reported to the
     * listener as an {@link IllegalStateException} caused by it, after the lock is released, and then rethrown
     * so that the thread's uncaught-exception handling sees it.
     */
    private void runStream(Turn turn, ConversationInfo info, StreamRun run, String holder, Duration lease,
                           ScheduledFuture<?> keeper, EngineListener listener, EngineListener.TurnContext context) {
        run.bind(Thread.currentThread());
        Reply reply = null;
        RuntimeException failure = null;
        Error fatal = null;
        try {
            // The turn commits only while this stream still holds the conversation's lock.
            FencedServices fenced = new FencedServices(services,
                    new LeaseFencedStore(services.store(), run, holder, lease, services.clock()), listener, context,
                    engine.leases());
            reply = toReply(turn.prompt(), info, run(turn, info, fenced.onStored(record -> usedTokens(info, record))));
        } catch (RuntimeException e) {
            failure = e;
        } catch (Error e) {
            // An Error (AssertionError, StackOverflowError, ...) still ends the stream with one terminal event, so
            // that a caller blocked in StreamHandle.await returns; the Error itself is rethrown after it.
            fatal = e;
            failure = new IllegalStateException("the stream of conversation " + id + " failed with "
                    + e.getClass().getName(), e);
        } finally {
            keeper.cancel(false);
            // An interrupt from the engine's close has done its job; the lock is released on a quiet thread.
            boolean interrupted = run.clearCloseInterrupt();
            try {
                if (run.releaseLock()) {
                    listener.streamLockReleased(context);
                }
            } catch (RuntimeException e) {
                LOG.warn("Could not release the stream lock of conversation {}; it expires after {}", id, lease, e);
            } finally {
                engine.streams().remove(id, run);
                run.unbind();
            }
            if (interrupted) {
                LOG.info("A stream of conversation {} was interrupted by the engine's close", id);
            }
        }
        if (failure != null) {
            listener.turnFailed(context, failure);
            run.fail(failure);
        } else if (reply.replayed()) {
            listener.turnEnd(context, reply.status(), true);
            run.replay(reply);
        } else {
            listener.turnEnd(context, reply.status(), false);
            run.complete(reply);
        }
        if (fatal != null) {
            throw fatal;
        }
    }

    /** How often a running stream looks for a cancel asked through another engine, at the longest. */
    private static final long CANCEL_POLL_MILLIS = 500;

    /** Renews the stream's lease when due, and honours a cancel asked through another engine. */
    private void keepLease(StreamRun run, String holder, Duration lease, long[] renewedAt, long renewEveryMillis) {
        // Nothing to keep while the stream has given its lock up to wait for its message id.
        run.whileHoldingLock(() -> keepHeldLease(run, holder, lease, renewedAt, renewEveryMillis));
    }

    private void keepHeldLease(StreamRun run, String holder, Duration lease, long[] renewedAt, long renewEveryMillis) {
        try {
            java.time.Instant now = services.clock().instant();
            long nanos = System.nanoTime();
            if (nanos - renewedAt[0] >= (renewEveryMillis - 5) * 1_000_000) {
                renewedAt[0] = nanos;
                if (!services.store().renewStreamLock(id, holder, now, lease)) {
                    LOG.warn("Lost the stream lock of conversation {}; stopping the stream, which stores nothing", id);
                    run.loseLease();
                    return;
                }
            }
            services.store().streamLock(id, now)
                    .filter(l -> l.holder().equals(holder) && l.cancelRequested())
                    .ifPresent(l -> run.cancel());
        } catch (RuntimeException e) {
            LOG.warn("Could not renew the stream lock of conversation {}", id, e);
        }
    }

    @Override
    public void cancelStream() {
        load();
        StreamRun local = engine.streams().get(id);
        if (local != null) {
            local.cancel();
        } else {
            services.store().requestStreamCancel(id, "", services.clock().instant());
        }
    }

    @Override
    public void cancelStream(String messageId) {
        dev.parley.api.internal.Checks.id("messageId", messageId);
        load();
        StreamRun local = engine.streams().get(id);
        if (local != null) {
            // The conversation's one stream runs here: cancel it only when it is that message's.
            if (local.promptId().equals(messageId)) {
                local.cancel();
            }
        } else {
            services.store().requestStreamCancel(id, StreamHolders.prefix(messageId), services.clock().instant());
        }
    }

    @Override
    public Page<Message> messages(PageRequest page) {
        Objects.requireNonNull(page, "page");
        load();
        return services.store().messages(id, page);
    }

    @Override
    public dev.parley.api.ConversationExport export() {
        // Read the conversation before and after its pages: when a turn committed in between, read again, so that
        // the totals and the messages are of the same moment.
        for (int attempt = 0; attempt < EXPORT_ATTEMPTS; attempt++) {
            ConversationInfo before = load();
            java.util.List<Message> all = new java.util.ArrayList<>();
            for (int number = 1; ; number++) {
                Page<Message> page = services.store().messages(id, PageRequest.of(number, PageRequest.MAX_SIZE));
                all.addAll(page.items());
                if (page.items().size() < PageRequest.MAX_SIZE) {
                    break;
                }
            }
            java.util.List<dev.parley.api.compaction.Summary> summaries = services.summaries()
                    .map(log -> log.summaries(id)).orElse(java.util.List.of());
            if (load().equals(before)) {
                return new dev.parley.api.ConversationExport(before, all, summaries);
            }
        }
        throw new dev.parley.api.ConversationLockedException(id, "turns kept committing while it was exported");
    }

    @Override
    public Page<dev.parley.api.policy.Violation> violations(PageRequest page) {
        Objects.requireNonNull(page, "page");
        ConversationInfo info = load();
        if (!caller.administers(info.workspaceId())) {
            throw new dev.parley.api.AccessDeniedException(caller.userId(),
                    "list the policy violations of conversation " + id);
        }
        return CallerConversations.violationLog(services).violations(dev.parley.api.policy.ViolationQuery.conversation(
                info.organizationId(), info.workspaceId(), id), page);
    }

    @Override
    public ConversationInfo update(ConversationPatch patch) {
        Objects.requireNonNull(patch, "patch");
        if (patch.isEmpty()) {
            throw new InvalidRequestException("patch", "at least one field must be given");
        }
        ConversationInfo info = load();
        // Check only what the patch sets; the store applies it atomically to the current row.
        CallerConversations.checkSteering(new Steering(null, null, patch.brandVoiceId().applyTo(null),
                patch.targetAudienceId().applyTo(null)), info.organizationId(), services);
        String modelName = patch.modelName().applyTo(null);
        if (modelName != null
                && !services.hasModel(modelName, info.organizationId(), info.workspaceId(), info.repositoryId())) {
            throw new InvalidRequestException("modelName", "unknown model " + modelName);
        }
        AuditEvent event = CallerConversations.event(AuditEvent.Type.CONVERSATION_UPDATED, info, caller.userId(),
                "fields=" + String.join(",", changedFields(patch)), services);
        ConversationInfo updated = services.store()
                .updateSettings(id, patch, services.clock().instant(), event)
                .orElseThrow(() -> new ConversationNotFoundException(id));
        services.notifySink(event);
        return updated;
    }

    private static List<String> changedFields(ConversationPatch p) {
        List<String> fields = new ArrayList<>(6);
        if (!p.personality().isKeep()) {
            fields.add("personality");
        }
        if (!p.personalityId().isKeep()) {
            fields.add("personalityId");
        }
        if (!p.brandVoiceId().isKeep()) {
            fields.add("brandVoiceId");
        }
        if (!p.targetAudienceId().isKeep()) {
            fields.add("targetAudienceId");
        }
        if (!p.modelName().isKeep()) {
            fields.add("modelName");
        }
        if (!p.modelParameters().isKeep()) {
            fields.add("modelParameters");
        }
        return fields;
    }

    @Override
    public void delete() {
        ConversationInfo info = load();
        AuditEvent event = CallerConversations.event(AuditEvent.Type.CONVERSATION_DELETED, info, caller.userId(), "",
                services);
        if (!services.store().delete(id, services.clock().instant(), event)) {
            throw new ConversationNotFoundException(id);
        }
        services.notifySink(event);
    }

    private ConversationInfo load() {
        engine.checkOpen();
        return CallerConversations.loadVisible(services, caller, id);
    }

    @Override
    public String toString() {
        return "Conversation{" + id + " as " + caller.userId() + "}";
    }
}
