package dev.parley.core;

import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.Prompt;
import dev.parley.api.Role;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnRecord;
import dev.parley.api.values.TurnResult;

import java.time.Instant;

/**
 * Stores a finished turn on the way out, in one store transaction: the prompt and the reply with their token
 * counts (unless the prompt asked for {@code saveHistory(false)}), and the usage added to the conversation's
 * totals, and, when a {@link BudgetStage} held credits for the turn, the charge of its real cost (its settled
 * tokens at the held price) in the same transaction. Needs the usage settled by {@link AccountingStage} below it.
 * Replays pass through unchanged.
 * Stateless and thread safe.
 */
public final class PersistStage implements PromptStage {

    /**
     * Model output as every store can keep it: NUL characters (PostgreSQL cannot store them) and unpaired
     * surrogates (not encodable as UTF-8) become U+FFFD. Prompts never contain them: they are refused on input.
     */
    static String storable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
                continue;
            }
            boolean bad = c == '\0' || Character.isSurrogate(c);
            if (bad && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
            }
        }
        return out == null ? text : out.toString();
    }

    @Override
    public TurnResult intercept(Chain chain) {
        TurnResult result = chain.proceed(chain.turn());
        if (result.replayed()) {
            return result;
        }
        if (result.blocked().isPresent()) {
            return settleBlocked(chain, result);
        }
        if (result.usage().isEmpty()) {
            throw new IllegalStateException("the turn reached " + name() + " without settled usage: "
                    + "the pipeline needs an AccountingStage after it");
        }
        // The turn the model answered: its prompt as the stages rewrote it, with the counts the context stage made.
        Turn turn = result.turn();
        EngineServices services = chain.services();
        Instant at = services.clock().instant();
        Prompt prompt = turn.prompt();
        String conversationId = turn.conversation().id();
        int promptTokens = turn.promptTokens().isPresent()
                ? turn.promptTokens().getAsInt() : services.tokenCounter(turn.model()).count(prompt.text());
        Message user = new Message(turn.promptId(), conversationId, 0, Role.USER, prompt.text(), promptTokens,
                null, prompt.user().orElse(null), prompt.source().orElse(null), MessageStatus.COMPLETE,
                turn.createdAt(), null);
        Message reply = new Message(services.newId(), conversationId, 0, Role.ASSISTANT, storable(result.text()),
                result.replyTokens().orElseThrow(), result.model(), prompt.user().orElse(null),
                prompt.source().orElse(null), result.status(), at, result.usage().get());
        TurnRecord record = new TurnRecord(conversationId, turn.promptId(), user, reply, result.usage().get(),
                prompt.saveHistory(), at, turn.claim().orElse(null));
        if (!result.violations().isEmpty()) {
            record = record.withViolations(result.violations());
        }
        record = charged(record, result, services).withMeter(new dev.parley.api.usage.UsageEntry(turn.caller().userId(),
                result.model(), promptTokens));
        String fingerprint = turn.attribute(IdempotencyStage.UNCLAIMED_FINGERPRINT).orElse(null);
        Message stored = services.store().commitTurn(fingerprint == null ? record : record.withFingerprint(fingerprint));
        TurnResult saved = result.withStored(stored.id(), stored.createdAt());
        return result.hold().isPresent() ? saved.withCredits(stored.credits()) : saved;
    }

    /** The record charging the turn's settled usage against the credits it holds, if a budget stage held any. */
    private static TurnRecord charged(TurnRecord record, TurnResult result, EngineServices services) {
        // A blocked stream's result was made afresh by the policy stage: its hold is the one the turn still keeps.
        java.util.Optional<dev.parley.api.credits.CreditHold> hold = result.hold().isPresent() ? result.hold()
                : result.blocked().isPresent() ? services.openHold() : java.util.Optional.empty();
        if (hold.isEmpty()) {
            return record;
        }
        dev.parley.api.Usage usage = result.usage().orElseThrow();
        return record.withCharge(new dev.parley.api.credits.TurnCharge(hold.get(), usage.tokensIn(),
                usage.tokensOut()));
    }

    /**
     * Settles a turn a policy blocked: no message, its usage added to the totals, its violations and events stored,
     * its message id settled as blocked; then fails the turn with the block's exception.
     */
    private static TurnResult settleBlocked(Chain chain, TurnResult result) {
        if (result.usage().isEmpty()) {
            throw new IllegalStateException("the blocked turn reached PersistStage without settled usage: "
                    + "the pipeline needs an AccountingStage after it");
        }
        Turn turn = result.turn();
        EngineServices services = chain.services();
        dev.parley.api.policy.PolicyBlock block = result.blocked().orElseThrow();
        TurnRecord record = TurnRecord.blocked(turn.conversation().id(), turn.promptId(), result.usage().get(),
                services.clock().instant(), turn.claim().orElse(null), block, result.violations(), java.util.List.of());
        int promptTokens = turn.promptTokens().isPresent()
                ? turn.promptTokens().getAsInt() : services.tokenCounter(turn.model()).count(turn.prompt().text());
        record = charged(record, result, services).withMeter(new dev.parley.api.usage.UsageEntry(turn.caller().userId(),
                result.model(), promptTokens));
        String fingerprint = turn.attribute(IdempotencyStage.UNCLAIMED_FINGERPRINT).orElse(null);
        services.store().commitTurn(fingerprint == null ? record : record.withFingerprint(fingerprint));
        throw block.toException();
    }
}
