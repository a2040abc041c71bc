package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.credits.AccountOwner;

import java.util.ArrayList;
import java.util.List;

/** Who a model call in a conversation is charged to. Not API. Stateless. */
public final class ChargedOwners {
    private ChargedOwners() {
    }

    /**
     * The conversation's organization, workspace and repository (if any) and the user, in
     * {@link AccountOwner.Kind} order: the accounts a turn (by its caller) or a summary (by the conversation's owner)
     * reserves on and is charged to.
     */
    public static List<AccountOwner> of(ConversationInfo c, String userId) {
        String org = c.organizationId();
        List<AccountOwner> owners = new ArrayList<>(4);
        owners.add(AccountOwner.organization(org));
        owners.add(AccountOwner.workspace(org, c.workspaceId()));
        if (c.repositoryId() != null) {
            owners.add(AccountOwner.repository(org, c.repositoryId()));
        }
        owners.add(AccountOwner.user(org, userId));
        return owners;
    }
}
