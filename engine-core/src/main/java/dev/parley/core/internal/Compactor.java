package dev.parley.core.internal;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.ModelParameters;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.api.compaction.Compaction;
import dev.parley.api.compaction.Summary;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.spi.CreditLedger;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.HistoryMessage;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import dev.parley.core.ContextStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs an engine's compaction ({@link Compaction}) after its turns, on a thread of its own. Not API.
 *
 * <p>A turn whose context left out history no summary covers ({@link ContextStage#LEFT_OUT}) hands its
 * conversation to {@link #afterTurn}; jobs for one conversation coalesce, the newest wins. A job estimates the
 * uncovered left-out tokens from the turn's own read (their number times the mean size of the messages it read), so
 * that a turn costs the store nothing more, and past the threshold claims the conversation in the store, reads the
 * messages after the latest summary, asks the summarizer, checks its answer with the POST rules and stores it with
 * its charge and usage in one transaction. Whatever fails is recorded (an audit event, the store's deferral) and
 * tried again by a later turn, no sooner than {@link Compaction#retryAfter()} after. Thread safe.
 */
final class Compactor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
    /** Messages read per page of the range to summarize. */
    private static final int PAGE = 100;
    /** Jobs waiting at most; beyond them a turn's job is dropped (a later turn of that conversation brings it back). */
    private static final int QUEUE = 10_000;
    /** The clock of holds' and claims' leases, as the budget stage's. */
    private static final java.time.Clock LEASE_CLOCK = java.time.Clock.systemUTC();

    private final Compaction settings;
    private final CoreServices services;
    private final SummaryLog log;
    private final ScheduledExecutorService leases;
    private final ThreadPoolExecutor thread;
    /** The newest job of each conversation that waits. */
    private final ConcurrentMap<String, Job> waiting = new ConcurrentHashMap<>();

    /** A turn whose context left history out, and what it left out. */
    private record Job(Turn turn, ContextStage.LeftOut leftOut) {
    }


    Compactor(Compaction settings, CoreServices services, SummaryLog log, ScheduledExecutorService leases,
              ThreadFactory threads) {
        this.settings = settings;
        this.services = services;
        this.log = log;
        this.leases = leases;
        this.thread = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(QUEUE), threads);
        thread.allowCoreThreadTimeOut(true);
    }

    /** Called on the turn's thread once it is stored: takes the conversation for compaction, or not. Never throws. */
    void afterTurn(TurnResult result) {
        if (result.replayed() || result.blocked().isPresent()) {
            return;
        }
        Turn turn = result.turn();
        Optional<ContextStage.LeftOut> leftOut = turn.attribute(ContextStage.LEFT_OUT);
        // Decided on the turn's thread from the turn's own read: most turns hand nothing over.
        if (leftOut.isEmpty() || leftOut.get().uncoveredTokens() <= settings.threshold()) {
            return;
        }
        try {
            if (!settings.appliesTo(turn.conversation())) {
                return;
            }
        } catch (RuntimeException e) {
            LOG.warn("Compaction's predicate failed on conversation {}; it is not compacted",
                    turn.conversation().id(), e);
            return;
        }
        String id = turn.conversation().id();
        // The job keeps what compaction needs of the turn (its conversation, caller, prompt and model), not its
        // request's history or its stream.
        Turn kept = new Turn(turn.conversation(), turn.caller(), turn.prompt(), turn.promptId(), turn.model(),
                turn.contextSize(), turn.createdAt(), null);
        if (waiting.put(id, new Job(kept, leftOut.get())) == null) {
            try {
                thread.execute(() -> run(id));
            } catch (RejectedExecutionException e) {
                waiting.remove(id);
                LOG.debug("Compaction of conversation {} skipped: the queue is full or the engine is closing", id);
            }
        }
    }

    private void run(String conversationId) {
        Job job = waiting.remove(conversationId);
        if (job == null) {
            return;
        }
        try {
            compact(job);
        } catch (RuntimeException e) {
            // The store failed, or a bug: turns go on trimming; a later turn brings the conversation back.
            LOG.warn("Compaction of conversation {} failed ({})", conversationId, e.getClass().getName());
            LOG.debug("Compaction failed", e);
        }
    }

    /**
     * Summarizes while what the job's turn left out is past the threshold: first by the turn's estimate (no read),
     * then by what each summary's range read left uncovered.
     */
    private void compact(Job job) {
        if (job.leftOut().uncoveredTokens() <= settings.threshold()) {
            return;
        }
        for (int round = 0; round < 64; round++) {
            Optional<Long> left = summarizeOnce(job);
            if (left.isEmpty() || left.get() <= settings.threshold()) {
                return;
            }
        }
    }

    /**
     * One summary, if this engine can claim the conversation and something past the threshold is still uncovered.
     *
     * @return the tokens left uncovered after it, as far as its read saw; empty when nothing was stored
     */
    private Optional<Long> summarizeOnce(Job job) {
        Turn turn = job.turn();
        String id = turn.conversation().id();
        long below = job.leftOut().below();
        String token = services.newId();
        Duration lease = services.timeouts().claimLease();
        if (!log.claimCompaction(id, token, LEASE_CLOCK.instant(), lease)) {
            return Optional.empty(); // another engine compacts it, or a failure deferred it
        }
        CreditHold hold = null;
        Renewal renewal = null;
        boolean ended = false;
        try {
            Optional<Summary> previous = log.latestSummary(id);
            long from = previous.map(Summary::toSequence).orElse(0L) + 1;
            Range range = range(id, from, below);
            if (range.messages().isEmpty() || range.tokens() + range.uncoveredAfter() <= settings.threshold()) {
                return Optional.empty(); // another engine summarized it meanwhile
            }
            String model = settings.model().orElseThrow();
            List<ModelMessage> request = settings.prompt().request(previous, range.messages());
            TokenCounter counter = services.tokenCounter(model);
            long inputTokens = requestTokens(request, previous, range);
            String summaryId = services.newId();
            Optional<CreditLedger> ledger = services.credits();
            if (ledger.isPresent()) {
                // Charged as the conversation's owner's turns are.
                hold = ledger.get().reserve(new HoldRequest(services.newId(), id, summaryId,
                        ChargedOwners.of(turn.conversation(), turn.conversation().ownerId()), model,
                        inputTokens, settings.maxSummaryTokens(), LEASE_CLOCK.instant(), lease));
            }
            renewal = keepAlive(id, token, hold, lease);
            ModelResponse response;
            try {
                response = services.model(model, turn.conversation(), "model").chat(new ModelRequest(model, request,
                        ModelParameters.builder().maxOutputTokens(settings.maxSummaryTokens()).build()));
            } catch (RuntimeException e) {
                if (closing) {
                    return Optional.empty(); // the engine's close interrupted it: not the summarizer's failure
                }
                // Its message may quote the conversation: the class only, the rest at DEBUG.
                LOG.warn("The summarizer failed on conversation {} ({}); it is tried again later", id,
                        e.getClass().getName());
                LOG.debug("Summarizer failure", e);
                fail(turn, token, "MODEL_UNAVAILABLE: " + ProviderFailures.kind(e), null);
                ended = true;
                return Optional.empty();
            }
            String text = response.text() == null ? "" : response.text().strip();
            Usage usage = response.usage() != null ? response.usage() : new Usage(inputTokens, counter.count(text));
            TurnCharge charge = hold != null && hold.metered()
                    ? new TurnCharge(hold, usage.tokensIn(), usage.tokensOut()) : null;
            UsageEntry meter = new UsageEntry(turn.conversation().ownerId(), model, 0);
            String refused = text.isEmpty() ? "EMPTY_SUMMARY" : null;
            if (refused == null) {
                try {
                    text = checked(turn, text);
                } catch (SummaryRefused e) {
                    refused = e.getMessage();
                }
            }
            if (refused != null) {
                // Withheld, and paid for as a blocked turn is: the model did the work.
                fail(turn, token, refused, new SummaryLog.Spent(summaryId, usage, charge, meter));
                ended = true;
                if (charge != null) {
                    hold = null;
                }
                return Optional.empty();
            }
            if (renewal.lost()) {
                return Optional.empty(); // the claim lapsed while the summarizer worked: another engine may hold it
            }
            int tokens = services.tokenCounter(turn.model()).count(ContextStage.SUMMARY_HEADING + text);
            Summary summary = new Summary(summaryId, id, 1, range.lastSequence(), text, tokens, model, usage,
                    Credits.unmetered(), services.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
            AuditEvent event = CallerConversations.event(AuditEvent.Type.CONVERSATION_COMPACTED, turn.conversation(),
                    turn.caller().userId(), "messages=1.." + range.lastSequence() + ", tokens=" + tokens, services);
            renewal.cancel();
            Optional<Summary> stored = log.commitSummary(token, summary, charge, meter, event);
            if (stored.isEmpty()) {
                return Optional.empty(); // the claim was taken over or ended by an erasure, or the conversation went
            }
            ended = true;
            if (charge != null) {
                hold = null; // settled with the summary
            }
            services.notifySink(event);
            LOG.debug("Conversation {} compacted: messages 1..{} in {} tokens", id, range.lastSequence(), tokens);
            return Optional.of(range.uncoveredAfter());
        } catch (ParleyException e) {
            // A refused reservation (BUDGET_EXCEEDED, a model without a price) or the store: recorded, tried later.
            LOG.warn("Compaction of conversation {} failed: {}", id, e.code());
            try {
                fail(turn, token, e.code().name(), null);
                ended = true;
            } catch (RuntimeException again) {
                LOG.debug("Could not record the failed compaction", again);
            }
            return Optional.empty();
        } finally {
            if (renewal != null) {
                renewal.cancel();
            }
            if (hold != null) {
                try {
                    services.releaseHold(hold);
                } catch (RuntimeException e) {
                    LOG.warn("Could not release the credit hold of a compaction of conversation {}; it lapses", id, e);
                }
            }
            if (!ended) {
                try {
                    log.releaseCompaction(id, token);
                } catch (RuntimeException e) {
                    LOG.warn("Could not end the compaction claim of conversation {}; it lapses", id, e);
                }
            }
        }
    }

    /**
     * About how many tokens the summarizer's request holds, from what is stored: the counts of its messages and of
     * the previous summary, and a token per four characters of the rest (the prompt's instructions and framing),
     * with a few per message. What its credits are reserved on, and its usage when the model reports none; counting
     * the whole request again would cost more than the turns that led to it.
     */
    static long requestTokens(List<ModelMessage> request, Optional<Summary> previous, Range range) {
        long chars = 0;
        for (ModelMessage m : request) {
            chars += m.text().length();
        }
        long known = previous.map(p -> (long) p.text().length()).orElse(0L);
        long knownTokens = previous.map(p -> (long) p.tokens()).orElse(0L) + range.tokens();
        for (HistoryMessage m : range.messages()) {
            known += m.text().length();
        }
        return knownTokens + (Math.max(0, chars - known) + 3) / 4 + 4L * request.size();
    }

    /** Records a failed compaction with its event (and the withheld call's charge): the store defers the next one. */
    private void fail(Turn turn, String token, String code, SummaryLog.@Nullable Spent spent) {
        AuditEvent event = CallerConversations.event(AuditEvent.Type.COMPACTION_FAILED, turn.conversation(),
                turn.caller().userId(), code, services);
        log.failCompaction(turn.conversation().id(), token, LEASE_CLOCK.instant(), settings.retryAfter(), event,
                spent);
        services.notifySink(event);
    }

    /** The renewal of a compaction's claim and hold; {@link #lost()} once a renewal found the claim gone. */
    private static final class Renewal {
        private final java.util.concurrent.atomic.AtomicBoolean lost = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile ScheduledFuture<?> future;

        boolean lost() {
            return lost.get();
        }

        void cancel() {
            ScheduledFuture<?> f = future;
            if (f != null) {
                f.cancel(false);
            }
        }
    }

    /** Renews the claim (and the hold) while the summarizer works. */
    private Renewal keepAlive(String id, String token, @Nullable CreditHold hold, Duration lease) {
        long every = Math.max(50, lease.toMillis() / 3);
        Renewal renewal = new Renewal();
        renewal.future = leases.scheduleWithFixedDelay(() -> {
            try {
                if (!log.renewCompaction(id, token, LEASE_CLOCK.instant(), lease)) {
                    renewal.lost.set(true);
                }
                if (hold != null && hold.metered()) {
                    services.credits().ifPresent(l -> l.renewHold(hold.id(), LEASE_CLOCK.instant(), lease));
                }
            } catch (RuntimeException e) {
                LOG.warn("Could not renew the compaction claim of conversation {}", id, e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return renewal;
    }

    /**
     * The messages to summarize: whole turns from {@code from} on, below {@code below}, at most
     * {@link Compaction#maxInputTokens()} of them (at least one turn).
     *
     * @param tokens the tokens of the messages read
     * @param uncoveredAfter the tokens read past the range, up to {@code below}
     */
    private record Range(List<HistoryMessage> messages, long tokens, long lastSequence, long uncoveredAfter) {
    }

    private Range range(String id, long from, long below) {
        List<HistoryMessage> taken = new ArrayList<>();
        long tokens = 0;
        long after = 0;
        long last = from - 1;
        boolean full = false;
        long next = from;
        while (next < below) {
            long pageNumber = (next - 1) / PAGE + 1;
            List<dev.parley.api.Message> page = services.store().messages(id,
                    PageRequest.of((int) pageNumber, PAGE)).items();
            if (page.isEmpty()) {
                break;
            }
            for (dev.parley.api.Message m : page) {
                if (m.sequence() < next || m.sequence() >= below) {
                    continue;
                }
                if (m.role() == Role.USER && !taken.isEmpty()
                        && (full || tokens >= settings.maxInputTokens())) {
                    full = true; // a turn boundary past the input limit: the rest stays for the next summary
                }
                if (full) {
                    after += m.tokens();
                    continue;
                }
                tokens += m.tokens();
                last = m.sequence();
                if (m.status() != MessageStatus.FAILED && !(m.role() == Role.ASSISTANT && m.text().isEmpty())) {
                    taken.add(HistoryMessage.of(m));
                }
            }
            next = page.get(page.size() - 1).sequence() + 1;
            if (full && after > settings.threshold()) {
                break;
            }
        }
        // The range ends with a whole turn: drop a trailing prompt whose reply is not in it.
        while (!taken.isEmpty() && taken.get(taken.size() - 1).role() == Role.USER
                && last == taken.get(taken.size() - 1).sequence()) {
            HistoryMessage dropped = taken.remove(taken.size() - 1);
            tokens -= dropped.tokens();
            after += dropped.tokens();
            last = dropped.sequence() - 1;
        }
        return new Range(taken, tokens, last, after);
    }

    /** The summary as the conversation's POST rules leave it: redacted, or refused when a rule blocks it. */
    private String checked(Turn turn, String text) {
        List<PolicyRule> post = new ArrayList<>();
        for (PolicyRule r : services.policies(turn.conversation())) {
            if (r.checks(PolicyPhase.POST)) {
                post.add(r);
            }
        }
        if (post.isEmpty()) {
            return text;
        }
        List<Finding> redactions = new ArrayList<>();
        for (PolicyChecks.Checked c : PolicyChecks.check(post, PolicyPhase.POST, text, 0, turn, services,
                services.tokenCounter(settings.model().orElseThrow()))) {
            if (PolicyChecks.blocks(c)) {
                throw new SummaryRefused("POLICY_BLOCKED");
            }
            if (c.status() == PolicyOutcome.Status.FOUND && c.rule().action() == PolicyAction.REDACT) {
                redactions.addAll(c.findings());
            }
        }
        return redactions.isEmpty() ? text : PolicyChecks.redact(text, redactions, 0, text.length());
    }

    /** Set by {@link #close()}: a summarizer call it interrupts is not recorded as the summarizer's failure. */
    private volatile boolean closing;

    /** Waits briefly for the summary in progress, then stops the thread; its claim lapses if it did not end. */
    @Override
    public void close() {
        closing = true;
        waiting.clear();
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A summary the engine refused to store; its message is the stable code recorded. */
    private static final class SummaryRefused extends RuntimeException {
        SummaryRefused(String code) {
            super(code, null, false, false);
        }
    }
}
