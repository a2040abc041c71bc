package dev.parley.api.spi;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;

/**
 * The policy violations a store keeps: a capability of its own beside {@link ConversationStore}. A store that
 * implements it stores the {@linkplain dev.parley.api.values.TurnRecord#violations() violations of a turn} in the
 * turn's transaction, and lists them here. Thread safe.
 */
public interface ViolationLog {

    /**
     * The violations of a conversation or a workspace, newest first (ties by id, descending), deleted
     * conversations' included: they are compliance records.
     */
    Page<Violation> violations(ViolationQuery query, PageRequest page);
}
