package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.ConversationInfo;

/** The access rules of {@link Caller}, in one place. */
public final class AccessRules {
    private AccessRules() {
    }

    /** Whether the caller may read, update and delete the conversation. */
    public static boolean canSee(Caller caller, ConversationInfo c) {
        return caller.organizationId().equals(c.organizationId())
                && (caller.administers(c.workspaceId()) || caller.userId().equals(c.ownerId()));
    }

    /** Whether the caller may send in the conversation: see it, and be a member of its workspace. */
    public static boolean canSend(Caller caller, ConversationInfo c) {
        return canSee(caller, c) && caller.canUseWorkspace(c.workspaceId());
    }
}
