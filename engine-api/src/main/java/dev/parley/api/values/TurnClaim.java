package dev.parley.api.values;

import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;

import java.util.Objects;

/**
 * The answer of {@link ConversationStore#claimTurn}. A claim is fenced by its {@link Claimed#token() token}: only
 * the holder of the current token may renew, commit or release it, so a turn whose claim expired and was taken
 * over by another engine can no longer complete or free the new holder's claim.
 */
public sealed interface TurnClaim {

    /** The caller owns the id now, under {@code token}: it must renew the claim while it works, then commit or release it. */
    record Claimed(String token) implements TurnClaim {
        public Claimed {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public String toString() {
            return "Claimed";
        }
    }

    /**
     * Another turn holds the id and has not finished yet.
     *
     * @param fingerprint the fingerprint of the prompt that holder sends
     */
    record InProgress(String fingerprint) implements TurnClaim {
        public InProgress {
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /**
     * The id's turn was stored; {@code reply} is its reply.
     *
     * @param reply the stored reply
     * @param fingerprint the fingerprint of the prompt that was answered; empty when the turn was stored without one
     */
    record Completed(Message reply, String fingerprint) implements TurnClaim {
        public Completed {
            Objects.requireNonNull(reply, "reply");
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /**
     * The id's turn was blocked by a policy and settled so: a replay gets the same refusal without a model call.
     *
     * @param block the rule and phase that blocked it
     * @param fingerprint the fingerprint of the prompt that was blocked; empty when it was stored without one
     */
    record Blocked(dev.parley.api.policy.PolicyBlock block, String fingerprint) implements TurnClaim {
        public Blocked {
            Objects.requireNonNull(block, "block");
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /**
     * The id is already the id of another message of the conversation (a reply): it cannot be a prompt's id, and
     * the turn is refused before the model is called.
     */
    record IdInUse() implements TurnClaim {
    }
}
