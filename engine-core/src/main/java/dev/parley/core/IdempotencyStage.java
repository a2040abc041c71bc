package dev.parley.core;

import dev.parley.api.ConversationLockedException;
import dev.parley.api.Message;
import dev.parley.api.ParleyException;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.Turn;
import dev.parley.api.spi.TurnClaim;
import dev.parley.api.spi.TurnResult;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Makes a message id produce one model call however often, and however concurrently, it is sent.
 *
 * <ul>
 *   <li>Concurrent sends of one id in this engine share one run of the rest of the pipeline: the first runs it,
 *       the others wait for its result and receive it marked {@code replayed}.</li>
 *   <li>The runner claims the id in the store first ({@link ConversationStore#claimTurn}), so that engines
 *       sharing a store make one call between them: a stored turn is returned as a replay without a model call;
 *       a turn in progress elsewhere is waited for up to the replay wait, then refused with
 *       {@link ConversationLockedException}.</li>
 *   <li>A failed turn releases its claim: nothing is stored and the id may be sent again.</li>
 *   <li>A turn with {@code saveHistory(false)} stores no reply, so only its concurrent sends are shared.</li>
 * </ul>
 *
 * Thread safe; holds the in-flight turns of the engines that use it.
 */
public final class IdempotencyStage implements PromptStage {
    /** How long a replay waits for the same id in progress by default. */
    public static final Duration DEFAULT_REPLAY_WAIT = Duration.ofSeconds(60);
    private static final long POLL_MILLIS = 20;

    private final Duration replayWait;
    private final ConcurrentMap<String, CompletableFuture<TurnResult>> inFlight = new ConcurrentHashMap<>();

    /** A stage that waits up to {@link #DEFAULT_REPLAY_WAIT} for a turn in progress. */
    public IdempotencyStage() {
        this(DEFAULT_REPLAY_WAIT);
    }

    /** A stage that waits up to {@code replayWait} for the same message id in progress. */
    public IdempotencyStage(Duration replayWait) {
        Objects.requireNonNull(replayWait, "replayWait");
        if (replayWait.isNegative()) {
            throw new IllegalArgumentException("replay wait must not be negative: " + replayWait);
        }
        this.replayWait = replayWait;
    }

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        String key = turn.conversation().id() + '\u0000' + turn.promptId();
        CompletableFuture<TurnResult> mine = new CompletableFuture<>();
        CompletableFuture<TurnResult> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return await(running, turn).asReplayed();
        }
        try {
            TurnResult result = run(chain, turn);
            mine.complete(result);
            return result;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private TurnResult run(Chain chain, Turn turn) {
        if (!turn.prompt().saveHistory()) {
            return chain.proceed(turn);
        }
        ConversationStore store = chain.services().store();
        String conversationId = turn.conversation().id();
        long deadline = System.nanoTime() + replayWait.toNanos();
        while (true) {
            Instant claimedAt = chain.services().clock().instant();
            TurnClaim claim = store.claimTurn(conversationId, turn.promptId(), claimedAt);
            if (claim instanceof TurnClaim.Completed completed) {
                return replay(turn, completed.reply());
            }
            if (claim instanceof TurnClaim.Claimed) {
                try {
                    return chain.proceed(turn);
                } catch (RuntimeException | Error e) {
                    try {
                        store.releaseTurn(conversationId, turn.promptId(), claimedAt);
                    } catch (RuntimeException releaseFailure) {
                        // The turn's own failure is what the caller must see; the claim expires after its lease.
                        e.addSuppressed(releaseFailure);
                    }
                    throw e;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new ConversationLockedException(conversationId,
                        "message " + turn.promptId() + " is still in progress elsewhere");
            }
            sleep();
        }
    }

    private TurnResult await(CompletableFuture<TurnResult> running, Turn turn) {
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

    private static TurnResult replay(Turn turn, Message reply) {
        return new TurnResult(turn, reply.text(), reply.model() == null ? "" : reply.model(), null, reply.usage(),
                reply.tokens(), reply.status(), true, reply.id(), reply.createdAt());
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a turn in progress", e);
        }
    }
}
