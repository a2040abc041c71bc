package dev.parley.store.jdbc.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.spi.ConversationStore.ConversationState;
import org.jdbi.v3.core.Handle;

import java.util.Optional;

/**
 * Conversations' settings by id and settings version (Caffeine, bounded by size), read fresh whenever the row's
 * version moved on. Not API. Thread safe.
 *
 * <p>Why this is correct with several engines on one database: settings change only through a settings patch
 * or a deletion, and both bump {@code settings_version} in the same statement that changes them. An entry holds
 * the settings of exactly one version, and {@link #find} reads the row's current version (with the totals,
 * times and deleted flag that change on every turn) before it uses the entry. A change committed by any engine
 * before that read therefore has a version no entry was made for, and is read in full; there is no window in
 * which a stale entry is used.
 */
public final class SettingsCache {
    private final Cache<String, ConversationDao.Versioned> cache;
    private final ConversationDao conversations;

    /** A cache of at most {@code maximumSize} conversations' settings, read through {@code conversations}. */
    public SettingsCache(long maximumSize, ConversationDao conversations) {
        this.cache = Caffeine.newBuilder().maximumSize(maximumSize).build();
        this.conversations = conversations;
    }

    /**
     * The live conversation: its settings from the cache when the row's version is the cached one, its totals
     * and times always from the row.
     */
    public Optional<ConversationInfo> find(Handle h, String conversationId) {
        return settings(h, conversationId, conversations.rowState(h, conversationId));
    }

    /**
     * As {@link #find}, with the conversation's stream status and the policy registry's version read in the same
     * statement as its row state: {@code read}, which the caller made with
     * {@link ConversationDao#rowStateWithStreams}.
     */
    public Optional<ConversationState> findWithStreams(Handle h, String conversationId,
                                                       Optional<ConversationDao.RowStateWithStreams> read) {
        return settings(h, conversationId, read.map(ConversationDao.RowStateWithStreams::row))
                .map(info -> new ConversationState(info, read.orElseThrow().streams(),
                        read.orElseThrow().policyVersion()));
    }

    private Optional<ConversationInfo> settings(Handle h, String conversationId, Optional<ConversationDao.RowState> state) {
        if (state.isEmpty() || state.get().deleted()) {
            cache.invalidate(conversationId);
            return Optional.empty();
        }
        ConversationDao.RowState row = state.get();
        ConversationDao.Versioned cached = cache.getIfPresent(conversationId);
        if (cached != null && cached.version() == row.version()) {
            ConversationInfo c = cached.info();
            return Optional.of(new ConversationInfo(c.id(), c.organizationId(), c.workspaceId(), c.repositoryId(),
                    c.ownerId(), c.steering(), c.modelName(), row.tokensIn(), row.tokensOut(), c.createdAt(),
                    row.updatedAt(), c.modelParameters()));
        }
        Optional<ConversationDao.Versioned> fresh = conversations.findVersioned(h, conversationId);
        fresh.ifPresentOrElse(f -> cache.put(conversationId, f), () -> cache.invalidate(conversationId));
        return fresh.map(ConversationDao.Versioned::info);
    }

    /** Drops the conversation's entry, before this engine changes its settings. */
    public void invalidate(String conversationId) {
        cache.invalidate(conversationId);
    }
}
