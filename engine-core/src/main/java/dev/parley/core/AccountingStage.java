package dev.parley.core;

import dev.parley.api.Usage;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;

/**
 * Settles a turn's tokens on the way out. The provider's reported usage wins when present; otherwise input is
 * the request's estimate (stored counts for history, the model's token counter for the rest) and output is the
 * reply counted by the model's token counter. The reply's own count is the reported output, else the estimate.
 * Replays pass through unchanged. Stateless and thread safe.
 */
public final class AccountingStage implements PromptStage {

    @Override
    public TurnResult intercept(Chain chain) {
        TurnResult result = chain.proceed(chain.turn());
        if (result.replayed()) {
            return result;
        }
        if (result.blocked().isPresent()) {
            // The withheld reply is gone from the result: the policy stage reported what the model spent.
            Usage spent = result.reportedUsage().orElse(Usage.ZERO);
            return result.withUsage(spent, (int) Math.min(Integer.MAX_VALUE, spent.tokensOut()));
        }
        java.util.Optional<Usage> reported = result.reportedUsage();
        if (reported.isPresent()) {
            return result.withUsage(reported.get(), (int) Math.min(Integer.MAX_VALUE, reported.get().tokensOut()));
        }
        TokenCounter counter = chain.services().tokenCounter(result.model());
        int replyTokens = counter.count(result.text());
        Turn answered = result.turn();
        long requestTokens = answered.requestTokens().isPresent()
                ? answered.requestTokens().getAsLong() : counter.count(answered.prompt().text());
        return result.withUsage(new Usage(requestTokens, replyTokens), replyTokens);
    }
}
