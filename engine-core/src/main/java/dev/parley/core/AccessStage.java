package dev.parley.core;

import dev.parley.api.AccessDeniedException;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import dev.parley.core.internal.AccessRules;

/**
 * Refuses a turn whose caller may not send in the conversation: they must see it (own it, or administer its
 * workspace or organization) and be a member of its workspace. Stateless and thread safe.
 */
public final class AccessStage implements PromptStage {

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        if (!AccessRules.canSend(turn.caller(), turn.conversation())) {
            throw new AccessDeniedException(turn.caller().userId(),
                    "send in conversation " + turn.conversation().id());
        }
        return chain.proceed(turn);
    }
}
