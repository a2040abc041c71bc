package dev.parley.api;

import java.util.Objects;

/** No conversation with that id exists for the caller's organization, or it was deleted. */
public class ConversationNotFoundException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String conversationId;

    public ConversationNotFoundException(String conversationId) {
        super(ErrorCode.NOT_FOUND, "conversation not found: " + Objects.requireNonNull(conversationId, "conversationId"));
        this.conversationId = conversationId;
    }

    /** The id that was asked for. */
    public String conversationId() {
        return conversationId;
    }
}
