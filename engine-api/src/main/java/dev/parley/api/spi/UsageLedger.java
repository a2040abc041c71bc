package dev.parley.api.spi;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;

/**
 * The usage ledger of a {@link ConversationStore} that keeps one: for every committed turn with a
 * {@linkplain dev.parley.api.values.TurnRecord#meter() meter} (in history or not, blocked ones too), one entry in
 * the turn's own transaction with its conversation, organization, workspace, user, model, day (UTC), request and
 * token counts and the credits its commit charged. Thread safe.
 */
public interface UsageLedger {

    /**
     * The entries of an organization that match the query, summed per day and per the query's grouping, newest day
     * first, then by key, in the page envelope.
     */
    Page<UsageRow> usage(String organizationId, UsageQuery query, PageRequest page);
}
