package dev.parley.core;

import dev.parley.api.ConversationLockedException;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnResult;
import dev.parley.core.internal.YieldingStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes a message id produce one model call however often, and however concurrently, it is sent, and refuses
 * an id reused for a different prompt, as idempotency keys work in payment APIs.
 *
 * <ul>
 *   <li>Concurrent sends of one id in this engine share one run of the rest of the pipeline: the first runs it,
 *       the others wait for its result and receive it marked {@code replayed}.</li>
 *   <li>The runner claims the id in the store first ({@link ConversationStore#claimTurn}), so that engines
 *       sharing a store make one call between them: a stored turn is returned as a replay without a model call;
 *       a turn in progress elsewhere is waited for (with backoff, no failing statements) up to the replay wait,
 *       then refused with {@link ConversationLockedException}. A stream that waits so gives its conversation's
 *       stream lock up while it waits, so that other turns of the conversation go on, and takes it back before
 *       it runs.</li>
 *   <li>A send whose id was already used with a different prompt (text, additional context or model) is refused
 *       with an {@link InvalidRequestException} naming {@code id}; the stored reply is not returned. So is an id
 *       that is already a reply's id in the conversation, before any model call.</li>
 *   <li>The claim is fenced by a token and held for a short lease ({@link dev.parley.api.Timeouts#claimLease()}, 10 s by default) that the running
 *       turn renews every third of the lease: a turn however slow keeps its claim, and the claim of an engine
 *       that died frees its id within one lease. A turn whose claim was taken over cannot commit.</li>
 *   <li>A failed turn releases its claim: nothing is stored and the id may be sent again.</li>
 *   <li>A turn with {@code saveHistory(false)} stores no reply, so only its concurrent sends are shared.</li>
 *   <li>A send without an id gets one from the engine, which no client knows before the reply: it makes no
 *       claim (one transaction less per turn; a stream claims, since its handle tells the id at once), and its commit keeps the prompt's fingerprint with the id, so
 *       that the reply's {@code promptId} sent again is replayed, or refused with another prompt, like any.</li>
 * </ul>
 *
 * Claim leases run in real time, not on the engine's {@link Clock}: the stage gives the store the system clock's
 * time, and a store shared by engines measures them by its own (the JDBC store by the database's), so that they
 * guard real model calls. Thread safe; holds the in-flight turns of the engines that use it, and renews claims on one daemon
 * thread that exists only while claims are held.
 */
public final class IdempotencyStage implements PromptStage {
    private static final Logger LOG = LoggerFactory.getLogger(IdempotencyStage.class);
    private static final long FIRST_POLL_MILLIS = 10;
    private static final long MAX_POLL_MILLIS = 250;
    private static final Clock LEASE_CLOCK = Clock.systemUTC();

    private final ConcurrentMap<String, InFlight> inFlight = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor renewals;

    /** A turn running in this engine: the fingerprint of its prompt and its outcome. */
    private record InFlight(String fingerprint, CompletableFuture<TurnResult> result) {
    }

    /**
     * A stage that waits for the same message id in progress up to the engine's
     * {@linkplain dev.parley.api.Timeouts#replayWait() replay wait}, and holds claims for its
     * {@linkplain dev.parley.api.Timeouts#claimLease() claim lease} between renewals.
     */
    public IdempotencyStage() {
        AtomicInteger n = new AtomicInteger();
        this.renewals = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-claim-renewal-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        renewals.setKeepAliveTime(30, TimeUnit.SECONDS);
        renewals.allowCoreThreadTimeOut(true);
        renewals.setRemoveOnCancelPolicy(true);
    }

    /**
     * The prompt fingerprint of a turn that made no claim (its id was the engine's own), for the persist stage to
     * keep with the id.
     */
    static final dev.parley.api.TurnAttribute<String> UNCLAIMED_FINGERPRINT =
            dev.parley.api.TurnAttribute.of("parley.unclaimedFingerprint", String.class);

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        String fingerprint = fingerprint(turn.prompt());
        if (turn.prompt().id().isEmpty() && turn.stream() == null) {
            // A send whose id the engine made up: no client knows it before the reply, so nothing can send it twice
            // while the turn runs, and there is nothing to claim. (A stream's handle tells its id at once: it claims.) The commit keeps the fingerprint with the id, so that a
            // later resend of it with another prompt is still refused.
            return chain.proceed(turn.prompt().saveHistory() ? turn.withAttribute(UNCLAIMED_FINGERPRINT, fingerprint)
                    : turn);
        }
        String key = turn.conversation().id() + '\u0000' + turn.promptId();
        InFlight mine = new InFlight(fingerprint, new CompletableFuture<>());
        InFlight running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            if (!running.fingerprint().equals(fingerprint)) {
                throw reusedId();
            }
            if (turn.stream() instanceof YieldingStream waiting) {
                waiting.yieldLock(); // it replays the running turn's reply and needs no lock for that
            }
            return await(running.result(), turn, chain.services().timeouts().replayWait()).asReplayed();
        }
        try {
            TurnResult result = run(chain, turn, fingerprint);
            mine.result().complete(result);
            return result;
        } catch (RuntimeException | Error e) {
            mine.result().completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private TurnResult run(Chain chain, Turn turn, String fingerprint) {
        if (!turn.prompt().saveHistory()) {
            return chain.proceed(turn);
        }
        ConversationStore store = chain.services().store();
        String conversationId = turn.conversation().id();
        Duration claimLease = chain.services().timeouts().claimLease();
        long deadline = System.nanoTime() + chain.services().timeouts().replayWait().toNanos();
        long pause = FIRST_POLL_MILLIS;
        // A stream waiting for its id gives its conversation's lock up meanwhile, and takes it back to run.
        YieldingStream yielding = turn.stream() instanceof YieldingStream y ? y : null;
        while (true) {
            TurnClaim claim = store.claimTurn(conversationId, turn.promptId(), fingerprint, LEASE_CLOCK.instant(),
                    claimLease);
            if (claim instanceof TurnClaim.Completed completed) {
                if (!completed.fingerprint().isEmpty() && !completed.fingerprint().equals(fingerprint)) {
                    throw reusedId();
                }
                return replay(turn, completed.reply());
            }
            if (claim instanceof TurnClaim.Blocked blocked) {
                if (!blocked.fingerprint().isEmpty() && !blocked.fingerprint().equals(fingerprint)) {
                    throw reusedId();
                }
                throw blocked.block().toException(); // settled: the same refusal, no model call
            }
            if (claim instanceof TurnClaim.IdInUse) {
                throw new InvalidRequestException("id", "is the id of another message in this conversation");
            }
            if (claim instanceof TurnClaim.Claimed claimed) {
                if (yielding != null) {
                    try {
                        yielding.reclaimLock();
                    } catch (RuntimeException e) {
                        store.releaseTurn(conversationId, turn.promptId(), claimed.token());
                        throw e;
                    }
                }
                return runClaimed(chain, turn, store, claimed.token(), claimLease);
            }
            TurnClaim.InProgress elsewhere = (TurnClaim.InProgress) claim;
            if (!elsewhere.fingerprint().isEmpty() && !elsewhere.fingerprint().equals(fingerprint)) {
                throw reusedId();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new ConversationLockedException(conversationId,
                        "message " + turn.promptId() + " is still in progress elsewhere");
            }
            if (yielding != null) {
                yielding.yieldLock();
            }
            sleep(pause);
            pause = Math.min(MAX_POLL_MILLIS, pause * 2);
        }
    }

    /** Runs the rest of the pipeline under the claim, renewing it until the turn ends; releases it on failure. */
    private TurnResult runClaimed(Chain chain, Turn turn, ConversationStore store, String token, Duration claimLease) {
        String conversationId = turn.conversation().id();
        long every = Math.max(50, claimLease.toMillis() / 3);
        ScheduledFuture<?> renewal = renewals.scheduleWithFixedDelay(() -> renew(store, turn, token, claimLease), every, every,
                TimeUnit.MILLISECONDS);
        try {
            return chain.proceed(turn.withClaimToken(token));
        } catch (RuntimeException | Error e) {
            renewal.cancel(false);
            try {
                store.releaseTurn(conversationId, turn.promptId(), token);
            } catch (RuntimeException releaseFailure) {
                // The turn's own failure is what the caller must see; the claim expires after its lease.
                e.addSuppressed(releaseFailure);
            }
            throw e;
        } finally {
            renewal.cancel(false);
        }
    }

    private void renew(ConversationStore store, Turn turn, String token, Duration claimLease) {
        try {
            if (!store.renewTurn(turn.conversation().id(), turn.promptId(), token, LEASE_CLOCK.instant(), claimLease)) {
                LOG.warn("The claim of a message in conversation {} is no longer this turn's; it will not be stored",
                        turn.conversation().id());
                throw new IllegalStateException("claim lost");
            }
        } catch (IllegalStateException e) {
            throw e; // stops this renewal task
        } catch (RuntimeException e) {
            LOG.warn("Could not renew the claim of a message in conversation {}", turn.conversation().id(), e);
        }
    }

    private TurnResult await(CompletableFuture<TurnResult> running, Turn turn, Duration replayWait) {
        try {
            return running.get(replayWait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ParleyException pe) {
                throw pe;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("the turn of message " + turn.promptId() + " failed", cause);
        } catch (TimeoutException e) {
            throw new ConversationLockedException(turn.conversation().id(),
                    "message " + turn.promptId() + " is still in progress");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for message " + turn.promptId(), e);
        }
    }

    private static InvalidRequestException reusedId() {
        return new InvalidRequestException("id", "was already used for a different prompt in this conversation");
    }

    /**
     * A digest of what makes two sends of an id the same request: the text, the additional context, the model
     * asked for and the turn's model parameters. Options that change only how the reply is returned (plaintext) or tagged do not count.
     */
    static String fingerprint(Prompt prompt) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        update(sha, prompt.text());
        sha.update((byte) prompt.additionalContext().size());
        for (String snippet : prompt.additionalContext()) {
            update(sha, snippet);
        }
        update(sha, prompt.model().orElse(""));
        if (!prompt.modelParameters().isEmpty()) {
            // Only when set, so that a prompt without parameters keeps the fingerprint earlier versions stored.
            update(sha, prompt.modelParameters().toString());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void update(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update(new byte[]{(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16), (byte) (bytes.length >>> 8),
                (byte) bytes.length});
        sha.update(bytes);
    }

    private static TurnResult replay(Turn turn, Message reply) {
        return TurnResult.replayed(turn, reply.text(), reply.model() == null ? "" : reply.model(),
                reply.usage() == null ? dev.parley.api.Usage.ZERO : reply.usage(), reply.tokens(), reply.status(),
                reply.id(), reply.createdAt(), reply.credits());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a turn in progress", e);
        }
    }
}
