package dev.parley.api.spi;

import dev.parley.api.Message;

import java.util.Objects;

/** The answer of {@link ConversationStore#claimTurn}. */
public sealed interface TurnClaim {

    /** The caller owns the id now: it must commit or release it. */
    record Claimed() implements TurnClaim {
    }

    /** Another turn holds the id and has not finished yet. */
    record InProgress() implements TurnClaim {
    }

    /** The id's turn was stored; {@code reply} is its reply. */
    record Completed(Message reply) implements TurnClaim {
        public Completed {
            Objects.requireNonNull(reply, "reply");
        }
    }
}
