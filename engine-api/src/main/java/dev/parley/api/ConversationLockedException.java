package dev.parley.api;

import java.util.Objects;

/** Another turn holds the conversation (an active stream, or the same message id in flight elsewhere). */
public class ConversationLockedException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String conversationId;

    public ConversationLockedException(String conversationId, String reason) {
        super(ErrorCode.CONVERSATION_LOCKED,
                "conversation locked: " + Objects.requireNonNull(conversationId, "conversationId") + " (" + reason + ")");
        this.conversationId = conversationId;
    }

    /** The locked conversation. */
    public String conversationId() {
        return conversationId;
    }
}
