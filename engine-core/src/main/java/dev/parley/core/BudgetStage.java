package dev.parley.core;

import dev.parley.api.ModelParameters;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.spi.CreditLedger;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;

import java.util.List;
import java.util.Optional;

/**
 * Reserves credits just before the model call, on the request's own token estimate: the request's counted input
 * tokens and the turn's maximum output tokens, at the model's price, on every credit account that applies to the
 * turn (its conversation's organization, workspace and repository, and its caller in the organization), all or
 * none, or refuses the turn with {@link dev.parley.api.BudgetExceededException} naming the account and the
 * shortfall before any model call. The turn's commit then charges the real cost and frees the rest
 * ({@link PersistStage}); a stream a DURING policy stopped is charged for what the model produced, in its blocked
 * commit; a failed model call frees the hold at once (a failed call is charged nothing), and the
 * engine frees the hold of any turn that ends without a commit that charged it. A hold is renewed while its turn
 * runs, so that one left by an engine that died lapses after the engine's
 * {@linkplain dev.parley.api.Timeouts#claimLease() claim lease}.
 *
 * <p>A metered turn that sets no {@linkplain ModelParameters#maxOutputTokens() maximum output tokens} is asked for
 * at most {@link #maxOutputTokens()} (the default {@value #DEFAULT_MAX_OUTPUT_TOKENS}), so that its reply cannot
 * cost more than it reserved. A turn whose store keeps no credits, or to which no account applies, passes through
 * unmetered; so does one whose first read found that its organization has no account at all
 * ({@link EngineServices#creditAccountsMayApply()}), without asking the store.
 *
 * <p>It sits inside the provider boundary, after the stages at
 * {@link dev.parley.api.PromptPipeline.Position#BEFORE_MODEL_CALL}: a retry or a fallback to another model reserves
 * afresh, at that model's price. Stateless and thread safe.
 */
public final class BudgetStage implements PromptStage {
    /** The output tokens a metered turn that sets no maximum is capped at and reserves for. */
    public static final int DEFAULT_MAX_OUTPUT_TOKENS = 4096;

    /**
     * The clock of holds' leases: the system's, as claims' are, so that engines whose clocks differ agree on when a
     * hold lapses.
     */
    private static final java.time.Clock LEASE_CLOCK = java.time.Clock.systemUTC();

    private final int maxOutputTokens;

    /** A budget stage that caps an uncapped metered turn at {@value #DEFAULT_MAX_OUTPUT_TOKENS} output tokens. */
    public BudgetStage() {
        this(DEFAULT_MAX_OUTPUT_TOKENS);
    }

    /**
     * A budget stage that caps an uncapped metered turn at {@code maxOutputTokens}.
     *
     * @throws IllegalArgumentException when it is out of {@link ModelParameters}' range
     */
    public BudgetStage(int maxOutputTokens) {
        if (maxOutputTokens < 1 || maxOutputTokens > dev.parley.api.Limits.MAX_OUTPUT_TOKENS) {
            throw new IllegalArgumentException("maxOutputTokens must be between 1 and "
                    + dev.parley.api.Limits.MAX_OUTPUT_TOKENS + ": " + maxOutputTokens);
        }
        this.maxOutputTokens = maxOutputTokens;
    }

    /** The output tokens an uncapped metered turn is capped at. */
    public int maxOutputTokens() {
        return maxOutputTokens;
    }

    /** Who a turn is charged to, in {@link AccountOwner.Kind} order. */
    static List<AccountOwner> owners(Turn turn) {
        return dev.parley.core.internal.ChargedOwners.of(turn.conversation(), turn.caller().userId());
    }

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        EngineServices services = chain.services();
        Optional<CreditLedger> credits = services.credits();
        if (credits.isEmpty() || !services.creditAccountsMayApply()) {
            return chain.proceed(turn);
        }
        if (turn.requestTokens().isEmpty()) {
            throw new IllegalStateException("the turn reached " + name() + " without a request estimate: "
                    + "the pipeline needs a ContextStage (or a stage that counts the request) before it");
        }
        ModelParameters parameters = turn.modelParameters();
        int maxOut = parameters.maxOutputTokens().orElse(maxOutputTokens);
        CreditLedger ledger = credits.get();
        CreditHold hold = ledger.reserve(new HoldRequest(services.newId(), turn.conversation().id(), turn.promptId(),
                owners(turn), turn.model(), turn.requestTokens().getAsLong(), maxOut, LEASE_CLOCK.instant(),
                services.timeouts().claimLease()));
        if (!hold.metered()) {
            return chain.proceed(turn);
        }
        Turn capped = turn;
        if (parameters.maxOutputTokens().isEmpty()) {
            ModelParameters cap = ModelParameters.builder().maxOutputTokens(maxOut).build();
            capped = turn.withModelParameters(turn.prompt().modelParameters().overriddenBy(cap));
        }
        TurnResult result;
        try {
            services.holdWithTurn(hold);
            for (String account : hold.softLimitReached()) {
                services.listener().softLimitReached(turn.context(), account);
            }
            result = chain.proceed(capped);
        } catch (dev.parley.api.PolicyBlockedException e) {
            // A DURING policy stopped the stream: the model produced output, which the blocked turn's commit charges
            // against this hold (EngineServices.openHold), or the turn's end frees.
            throw e;
        } catch (RuntimeException | Error e) {
            // A failed call is charged nothing; a retry above reserves afresh.
            try {
                services.releaseHold(hold);
            } catch (RuntimeException releaseFailure) {
                e.addSuppressed(releaseFailure);
            }
            throw e;
        }
        return result.withHold(hold);
    }
}
