package dev.parley.core;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Limits;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Steering;
import dev.parley.api.StoreFailureException;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ViolationLog;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A {@link ConversationStore} in memory: the engine's default when no store is given, and a fast store for
 * tests. Nothing survives the JVM. Thread safe: each conversation's state is guarded by its own lock, so turns
 * of different conversations never wait for each other. Lists scan every conversation, so they cost time in
 * proportion to the number of conversations held.
 *
 * <p>It refuses what the JDBC store's schema refuses, with the same exceptions, so that tests on it hold on a
 * database too (the store contract suite checks both): a second conversation with an id is a
 * {@link StoreFailureException}, as is a value longer than its column (ids 128 chars, model names and tags 256,
 * event details 1024, violation rule ids 64 and categories 32); a turn that would store a message id the conversation already has is a
 * {@link ConversationLockedException}. Times of stored messages and violations are cut to microseconds.
 *
 * <p>It is a {@link ViolationLog}: a turn's violations are stored with it, under the conversation's lock, and
 * kept when the conversation is deleted. It is a {@link dev.parley.api.spi.PolicyRegistry}: rules put at run time
 * are seen by every engine that shares this store object on its next turn. It is a
 * {@link dev.parley.api.spi.CreditLedger}: prices, accounts, ledgers and holds are guarded by one lock, taken inside
 * a conversation's lock when a turn's commit charges it. It is a {@link dev.parley.api.spi.RateLimitLedger}: every
 * engine on this store object counts requests and tokens on the same counters. It is a
 * {@link dev.parley.api.spi.UsageLedger}: a metered-or-not turn's usage entry is recorded under its commit.
 */
public final class InMemoryConversationStore implements ConversationStore, ViolationLog,
        dev.parley.api.spi.PolicyRegistry, dev.parley.api.spi.CreditLedger, dev.parley.api.spi.RateLimitLedger,
        dev.parley.api.spi.UsageLedger, dev.parley.api.spi.ConversationPurges, dev.parley.api.spi.SummaryLog {
    private static final Comparator<ConversationInfo> NEWEST_FIRST =
            Comparator.comparing(ConversationInfo::createdAt).thenComparing(ConversationInfo::id).reversed();
    private static final Comparator<Violation> NEWEST_VIOLATION_FIRST =
            Comparator.comparing(Violation::at).thenComparing(Violation::id).reversed();

    private final ConcurrentMap<String, Entry> conversations = new ConcurrentHashMap<>();
    /** The policy registry's rules by id, in the order first put; guarded by itself. */
    private final Map<String, dev.parley.api.policy.PolicySpec> policies = new java.util.LinkedHashMap<>();
    private volatile long policyVersion;
    private final ConcurrentMap<String, List<AuditEvent>> events = new ConcurrentHashMap<>();
    /** The violations of purged conversations, their excerpts removed: the compliance record outlives them. */
    private final List<Violation> purgedViolations = java.util.Collections.synchronizedList(new ArrayList<>());
    private final dev.parley.core.internal.MemoryCredits credits = new dev.parley.core.internal.MemoryCredits();
    private final dev.parley.core.internal.MemoryRateLimits rateLimits = new dev.parley.core.internal.MemoryRateLimits();
    private final dev.parley.core.internal.MemoryUsage usage = new dev.parley.core.internal.MemoryUsage();

    /** One conversation's state; every field is guarded by the entry's monitor. */
    private static final class Entry {
        ConversationInfo info;
        boolean deleted;
        /** When it was soft-deleted; null while live. */
        Instant deletedAt;
        final List<Message> messages = new ArrayList<>();
        /** Claimed message ids: the claim's token and lease, and the stored reply once committed. */
        final Map<String, Claim> claims = new HashMap<>();
        /** The ids of every stored message, prompts and replies: unique within the conversation. */
        final java.util.Set<String> messageIds = new java.util.HashSet<>();
        /** The stream lock, live or expired, if any. */
        StreamLock streamLock;
        /** How many streams released the lock. */
        long streamsEnded;
        /** The violations of the conversation's turns, in the order they were stored. */
        final List<Violation> violations = new ArrayList<>();
        /** Its summaries, oldest first. */
        final List<dev.parley.api.compaction.Summary> summaries = new ArrayList<>();
        /** The compaction claim's token, or null; its lease ends at {@link #compactionUntil}. */
        String compactionToken;
        Instant compactionUntil = Instant.EPOCH;
        /** No compaction is claimed before this, after a failure. */
        Instant compactionRetryAt = Instant.EPOCH;
        /** Failed compactions since the last summary. */
        int compactionFailures;

        Entry(ConversationInfo info) {
            this.info = info;
        }
    }

    /**
     * A claim of a message id: held under {@code token} until {@code expiresAt} while it is {@link #pending()},
     * complete with its reply after the commit, or settled as blocked with the block of a turn a policy blocked
     * (for good: no token, no lease).
     */
    private record Claim(String token, String fingerprint, Instant expiresAt, Message reply, PolicyBlock block) {
        Claim(String token, String fingerprint, Instant expiresAt, Message reply) {
            this(token, fingerprint, expiresAt, reply, null);
        }

        /** Held by a running turn: neither committed nor blocked. */
        boolean pending() {
            return reply == null && block == null;
        }
    }

    @Override
    public void insert(ConversationInfo conversation, AuditEvent created) {
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(created, "created");
        checkFits(conversation);
        checkFits(created);
        if (conversations.putIfAbsent(conversation.id(), new Entry(conversation)) != null) {
            throw new StoreFailureException("the store could not store a conversation: conversation "
                    + conversation.id() + " already exists", null);
        }
        append(created);
    }

    @Override
    public boolean importConversation(ConversationInfo conversation, List<Message> messages, AuditEvent imported) {
        return importConversation(conversation, messages, List.of(), imported);
    }

    @Override
    public boolean importConversation(ConversationInfo conversation, List<Message> messages,
                                      List<dev.parley.api.compaction.Summary> summaries, AuditEvent imported) {
        Objects.requireNonNull(summaries, "summaries");
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(imported, "imported");
        checkFits(conversation);
        checkFits(imported);
        Entry entry = new Entry(conversation);
        for (Message m : messages) {
            checkFits(m);
            if (!m.conversationId().equals(conversation.id()) || m.sequence() != entry.messages.size() + 1L
                    || !entry.messageIds.add(m.id())) {
                throw new IllegalArgumentException("imported messages must be the conversation's, numbered from 1, "
                        + "with ids of their own");
            }
            entry.messages.add(atStoredPrecision(m));
        }
        long covered = 0;
        for (dev.parley.api.compaction.Summary sm : summaries) {
            if (!sm.conversationId().equals(conversation.id()) || sm.toSequence() <= covered
                    || sm.toSequence() > messages.size()) {
                throw new IllegalArgumentException("imported summaries must be the conversation's, each covering more "
                        + "of its messages than the one before");
            }
            covered = sm.toSequence();
            entry.summaries.add(new dev.parley.api.compaction.Summary(sm.id(), sm.conversationId(), sm.fromSequence(),
                    sm.toSequence(), sm.text(), sm.tokens(), sm.model(), sm.usage(), sm.credits(),
                    sm.createdAt().truncatedTo(ChronoUnit.MICROS)));
        }
        if (conversations.putIfAbsent(conversation.id(), entry) != null) {
            return false;
        }
        append(imported);
        return true;
    }

    @Override
    public List<String> purgeCandidates(String organizationId, String workspaceId, Instant inactiveBefore,
                                        Instant deletedBefore, String afterId, int limit) {
        return ids(afterId, limit, (info, e) -> info.organizationId().equals(organizationId)
                && (workspaceId == null || info.workspaceId().equals(workspaceId))
                && ((inactiveBefore != null && info.updatedAt().isBefore(inactiveBefore))
                || (e.deleted && deletedBefore != null && e.deletedAt != null && e.deletedAt.isBefore(deletedBefore))));
    }

    @Override
    public List<String> ownedBy(String organizationId, String ownerId, String afterId, int limit) {
        return ids(afterId, limit, (info, e) -> info.organizationId().equals(organizationId)
                && info.ownerId().equals(ownerId));
    }

    @Override
    public List<String> inOrganization(String organizationId, String afterId, int limit) {
        return ids(afterId, limit, (info, e) -> info.organizationId().equals(organizationId));
    }

    /** Up to {@code limit} ids above {@code afterId}, ascending, of the conversations {@code test} accepts. */
    private List<String> ids(String afterId, int limit,
                             java.util.function.BiPredicate<ConversationInfo, Entry> test) {
        java.util.TreeSet<String> found = new java.util.TreeSet<>();
        for (Map.Entry<String, Entry> c : conversations.entrySet()) {
            if (afterId != null && c.getKey().compareTo(afterId) <= 0) {
                continue;
            }
            Entry e = c.getValue();
            synchronized (e) {
                if (test.test(e.info, e)) {
                    found.add(c.getKey());
                    if (found.size() > limit) {
                        found.pollLast();
                    }
                }
            }
        }
        return new ArrayList<>(found);
    }

    @Override
    public java.util.OptionalLong purge(String conversationId, int batchSize, boolean unlinkLedger,
                                        EventFactory purged) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return java.util.OptionalLong.empty();
        }
        AuditEvent event;
        long messages;
        synchronized (e) {
            e.deleted = true;
            messages = e.messages.size();
            event = purged.event(e.info.organizationId(), e.info.workspaceId(), messages);
            checkFits(event);
            e.messages.clear();
            e.messageIds.clear();
            e.claims.clear();
            e.streamLock = null;
            e.summaries.clear();
            e.compactionToken = null;
            e.violations.replaceAll(v -> new Violation(v.id(), v.conversationId(), v.organizationId(),
                    v.workspaceId(), v.messageId(), v.ruleId(), v.category(), v.action(), v.phase(), v.at(), ""));
            conversations.remove(conversationId, e);
            purgedViolations.addAll(e.violations);
        }
        if (unlinkLedger) {
            credits.unlinkConversation(conversationId);
        }
        append(event);
        return java.util.OptionalLong.of(messages);
    }

    @Override
    public long eraseTagged(String conversationId, String userTag, int batchSize, EventFactory erased) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return 0;
        }
        long changed = 0;
        AuditEvent event = null;
        synchronized (e) {
            for (int i = 0; i < e.messages.size(); i++) {
                Message m = e.messages.get(i);
                if (userTag.equals(m.user())) {
                    e.messages.set(i, new Message(m.id(), m.conversationId(), m.sequence(), m.role(), "", m.tokens(),
                            m.model(), null, null, m.status(), m.createdAt(), m.usage(), m.credits()));
                    changed++;
                }
            }
            if (changed > 0) {
                // A summary may repeat what the user wrote: it goes with their text, and a compaction that read the
                // text before cannot store its summary now.
                e.summaries.clear();
                e.compactionToken = null;
                event = erased.event(e.info.organizationId(), e.info.workspaceId(), changed);
                checkFits(event);
            }
        }
        if (event != null) {
            append(event);
        }
        return changed;
    }

    @Override
    public void unlinkUser(String organizationId, String userId, String pseudonym) {
        usage.unlinkUser(organizationId, userId, pseudonym);
        for (List<AuditEvent> list : events.values()) {
            synchronized (list) {
                list.replaceAll(ev -> ev.organizationId().equals(organizationId) && ev.actorId().equals(userId)
                        ? new AuditEvent(ev.id(), ev.type(), ev.conversationId(), ev.organizationId(), ev.workspaceId(),
                        pseudonym, ev.at(), ev.detail()) : ev);
            }
        }
    }

    @Override
    public Optional<ConversationInfo> find(String conversationId) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return Optional.empty();
        }
        synchronized (e) {
            return e.deleted ? Optional.empty() : Optional.of(e.info);
        }
    }

    @Override
    public Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                                     AuditEvent updated) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return Optional.empty();
        }
        synchronized (e) {
            if (e.deleted) {
                return Optional.empty();
            }
            dev.parley.api.ModelParameters parameters = patch.modelParameters().applyTo(e.info.modelParameters());
            ConversationInfo patched = e.info.withSettings(patch.applyTo(e.info.steering()),
                    patch.modelName().applyTo(e.info.modelName()),
                    parameters == null ? dev.parley.api.ModelParameters.NONE : parameters, at);
            checkFits(patched);
            checkFits(updated);
            e.info = patched;
            append(updated);
            return Optional.of(e.info);
        }
    }

    @Override
    public boolean delete(String conversationId, Instant at, AuditEvent deleted) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (e.deleted) {
                return false;
            }
            e.deleted = true;
            e.deletedAt = at;
            append(deleted);
            return true;
        }
    }

    @Override
    public Page<ConversationInfo> list(ConversationFilter filter, PageRequest page) {
        List<ConversationInfo> matching = new ArrayList<>();
        for (Entry e : conversations.values()) {
            synchronized (e) {
                ConversationInfo c = e.info;
                if (!e.deleted && filter.accepts(c.organizationId(), c.workspaceId(), c.repositoryId(), c.ownerId())) {
                    matching.add(c);
                }
            }
        }
        matching.sort(NEWEST_FIRST);
        return dev.parley.core.internal.Pages.slice(matching, page);
    }

    @Override
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        Entry e = conversations.get(conversationId);
        if (e == null || limit <= 0) {
            return List.of();
        }
        synchronized (e) {
            // Messages are numbered 1, 2, 3... in list order, so message n sits at index n - 1.
            int end = (int) Math.min(e.messages.size(), beforeSequence - 1);
            List<Message> out = new ArrayList<>(Math.min(limit, Math.max(end, 0)));
            for (int i = end - 1; i >= 0 && out.size() < limit; i--) {
                out.add(e.messages.get(i));
            }
            return out;
        }
    }

    @Override
    public Page<Message> messages(String conversationId, PageRequest page) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return Page.of(List.of(), page, 0);
        }
        synchronized (e) {
            return e.deleted ? Page.of(List.of(), page, 0) : dev.parley.core.internal.Pages.slice(e.messages, page);
        }
    }

    @Override
    public TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease) {
        Entry e = entry(conversationId);
        synchronized (e) {
            Claim claim = e.claims.get(promptId);
            if (claim == null && e.messageIds.contains(promptId)) {
                return new TurnClaim.IdInUse();
            }
            if (claim == null || (claim.pending() && claim.expiresAt().isBefore(at))) {
                // A free id, or one whose holder let its lease run out: a new claim under a new token.
                String token = UUID.randomUUID().toString();
                e.claims.put(promptId, new Claim(token, fingerprint, at.plus(lease), null));
                return new TurnClaim.Claimed(token);
            }
            String kept = claim.fingerprint() == null ? "" : claim.fingerprint();
            if (claim.block() != null) {
                return new TurnClaim.Blocked(claim.block(), kept);
            }
            return claim.reply() == null ? new TurnClaim.InProgress(kept) : new TurnClaim.Completed(claim.reply(), kept);
        }
    }

    @Override
    public boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            Claim claim = e.claims.get(promptId);
            if (claim == null || !claim.pending() || !claim.token().equals(token)) {
                return false;
            }
            e.claims.put(promptId, new Claim(token, claim.fingerprint(), at.plus(lease), null));
            return true;
        }
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        Entry e = entry(turn.conversationId());
        synchronized (e) {
            if (e.deleted) {
                throw new ConversationNotFoundException(turn.conversationId());
            }
            if (turn.streamsEnded().isPresent() && (turn.streamsEnded().getAsLong() != e.streamsEnded
                    || live(e.streamLock, turn.at()))) {
                throw new ConversationLockedException(turn.conversationId(),
                        "a stream ran on the conversation while this turn did; the turn was not stored");
            }
            Claim claim = e.claims.get(turn.promptId());
            // A turn committed without a claim keeps the fingerprint it brings, if any.
            String fingerprint = turn.fingerprint().isEmpty() ? null : turn.fingerprint();
            if (turn.claimToken() != null) {
                if (claim == null || !claim.pending() || !claim.token().equals(turn.claimToken())) {
                    throw new ConversationLockedException(turn.conversationId(), "the claim of message "
                            + turn.promptId() + " was taken over by another turn");
                }
                fingerprint = claim.fingerprint();
            } else if ((turn.inHistory() || turn.blocked() != null) && claim != null) {
                throw new ConversationLockedException(turn.conversationId(), "message " + turn.promptId()
                        + " was stored by another turn");
            }
            turn.events().forEach(InMemoryConversationStore::checkFits);
            turn.violations().forEach(InMemoryConversationStore::checkFits);
            Message reply = atStoredPrecision(turn.reply());
            if (turn.inHistory()) {
                checkFits(turn.prompt());
                checkFits(reply);
                if (e.messageIds.contains(turn.prompt().id()) || e.messageIds.contains(reply.id())
                        || turn.prompt().id().equals(reply.id())) {
                    throw new ConversationLockedException(turn.conversationId(), "message " + turn.promptId()
                            + " was stored by another turn");
                }
            }
            // Nothing refuses the turn from here on: its charge, messages, totals, events and violations go together.
            if (turn.charge() != null) {
                reply = reply.withCredits(credits.settle(turn.charge(), turn.conversationId(), turn.promptId(),
                        turn.at()));
            }
            if (turn.meter() != null) {
                usage.record(e.info.organizationId(), e.info.workspaceId(), turn.conversationId(), turn.meter(),
                        turn.at(), turn.usage(), reply.credits());
            }
            if (turn.inHistory()) {
                long next = e.messages.size() + 1L;
                e.messages.add(atStoredPrecision(turn.prompt()).withSequence(next));
                reply = reply.withSequence(next + 1);
                e.messages.add(reply);
                e.messageIds.add(turn.prompt().id());
                e.messageIds.add(reply.id());
                e.claims.put(turn.promptId(), new Claim(null, fingerprint, turn.at(), reply));
            } else if (turn.blocked() != null) {
                // Settled for good: the claim's fingerprint (or the turn's, when it claimed nothing) stays with it.
                e.claims.put(turn.promptId(), new Claim(null, fingerprint, turn.at(), null, turn.blocked()));
            } else if (claim != null && claim.pending() && turn.claimToken() != null) {
                e.claims.remove(turn.promptId());
            }
            e.info = e.info.plus(turn.usage(), turn.at());
            // The turn's own events and violations, only now that nothing can refuse it any more: with the turn,
            // or not at all.
            turn.events().forEach(this::append);
            for (Violation v : turn.violations()) {
                e.violations.add(atStoredPrecision(v));
            }
            return reply;
        }
    }

    @Override
    public void releaseTurn(String conversationId, String promptId, String token) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return;
        }
        synchronized (e) {
            Claim claim = e.claims.get(promptId);
            if (claim != null && claim.pending() && token.equals(claim.token())) {
                e.claims.remove(promptId);
            }
        }
    }

    /**
     * The message with its time cut to microseconds, the precision the JDBC store keeps, so that a reply reads
     * the same on every store, and the same when committed as when read back.
     */
    private static Message atStoredPrecision(Message m) {
        Instant at = m.createdAt().truncatedTo(ChronoUnit.MICROS);
        return at.equals(m.createdAt()) ? m : new Message(m.id(), m.conversationId(), m.sequence(), m.role(), m.text(),
                m.tokens(), m.model(), m.user(), m.source(), m.status(), at, m.usage(), m.credits());
    }

    /** The violation with its time cut to microseconds, as the JDBC store keeps it. */
    private static Violation atStoredPrecision(Violation v) {
        Instant at = v.at().truncatedTo(ChronoUnit.MICROS);
        return at.equals(v.at()) ? v : new Violation(v.id(), v.conversationId(), v.organizationId(), v.workspaceId(),
                v.messageId(), v.ruleId(), v.category(), v.action(), v.phase(), at, v.excerpt());
    }

    /**
     * The violations of a conversation or a workspace, newest first (ties by id, descending), deleted
     * conversations' included. A workspace's page scans every conversation held. The query's organization and
     * workspace must both match: a conversation id of another workspace lists nothing.
     */
    @Override
    public Page<Violation> violations(ViolationQuery query, PageRequest page) {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(page, "page");
        List<Violation> matching = new ArrayList<>();
        if (query.conversationId() != null) {
            Entry e = conversations.get(query.conversationId());
            if (e != null) {
                collect(e, query, matching);
            }
        } else {
            for (Entry e : conversations.values()) {
                collect(e, query, matching);
            }
        }
        synchronized (purgedViolations) {
            for (Violation v : purgedViolations) {
                if (v.organizationId().equals(query.organizationId()) && v.workspaceId().equals(query.workspaceId())
                        && (query.conversationId() == null || query.conversationId().equals(v.conversationId()))) {
                    matching.add(v);
                }
            }
        }
        matching.sort(NEWEST_VIOLATION_FIRST);
        return dev.parley.core.internal.Pages.slice(matching, page);
    }

    private static void collect(Entry e, ViolationQuery query, List<Violation> into) {
        synchronized (e) {
            for (Violation v : e.violations) {
                if (v.organizationId().equals(query.organizationId()) && v.workspaceId().equals(query.workspaceId())) {
                    into.add(v);
                }
            }
        }
    }

    @Override
    public boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        Entry e = entry(conversationId); // a lock on a conversation that never existed is NOT_FOUND, as on JDBC
        synchronized (e) {
            if (live(e.streamLock, now)) {
                return false;
            }
            e.streamLock = new StreamLock(conversationId, holder, now.plus(lease), false);
            return true;
        }
    }

    private static boolean live(StreamLock lock, Instant now) {
        return lock != null && !lock.expiresAt().isBefore(now);
    }

    @Override
    public boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            StreamLock current = e.streamLock;
            if (current == null || !current.holder().equals(holder)) {
                return false;
            }
            e.streamLock = new StreamLock(conversationId, holder, now.plus(lease), current.cancelRequested());
            return true;
        }
    }

    @Override
    public void releaseStreamLock(String conversationId, String holder) {
        release(conversationId, holder, true);
    }

    @Override
    public void yieldStreamLock(String conversationId, String holder) {
        release(conversationId, holder, false);
    }

    private void release(String conversationId, String holder, boolean ended) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return;
        }
        synchronized (e) {
            if (e.streamLock != null && e.streamLock.holder().equals(holder)) {
                e.streamLock = null;
                if (ended) {
                    e.streamsEnded++;
                }
            }
        }
    }

    @Override
    public StreamStatus streamStatus(String conversationId, Instant now) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return new StreamStatus(0, Optional.empty());
        }
        synchronized (e) {
            return new StreamStatus(e.streamsEnded,
                    live(e.streamLock, now) ? Optional.of(e.streamLock) : Optional.empty());
        }
    }

    @Override
    public boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            StreamLock current = e.streamLock;
            if (!live(current, now) || !current.holder().startsWith(holderPrefix)) {
                return false;
            }
            e.streamLock = new StreamLock(conversationId, current.holder(), current.expiresAt(), true);
            return true;
        }
    }

    @Override
    public void append(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        checkFits(event);
        List<AuditEvent> list = events.computeIfAbsent(event.conversationId(), id -> new ArrayList<>());
        synchronized (list) {
            list.add(event);
        }
    }

    @Override
    public List<AuditEvent> events(String conversationId) {
        List<AuditEvent> list = events.get(conversationId);
        if (list == null) {
            return List.of();
        }
        synchronized (list) {
            return List.copyOf(list);
        }
    }

    // The column sizes of the JDBC store's schema, so that what one store refuses the other refuses too. The
    // engine checks requests against Limits before they reach a store; these catch what slips past it.
    private static final int ID = Limits.MAX_ID_LENGTH;
    private static final int TAG = Limits.MAX_TAG_LENGTH;
    private static final int DETAIL = 1024;
    private static final int RULE = 64;
    private static final int CATEGORY = 32;

    private static void checkFits(ConversationInfo c) {
        Steering s = c.steering();
        fits("conversation", c.id(), ID, c.organizationId(), ID, c.workspaceId(), ID, c.repositoryId(), ID,
                c.ownerId(), ID, s.personalityId(), ID, s.brandVoiceId(), ID, s.targetAudienceId(), ID,
                c.modelName(), TAG);
    }

    private static void checkFits(Message m) {
        fits("message", m.id(), ID, m.model(), TAG, m.user(), TAG, m.source(), TAG);
    }

    private static void checkFits(Violation v) {
        fits("violation", v.id(), ID, v.conversationId(), ID, v.organizationId(), ID, v.workspaceId(), ID,
                v.messageId(), ID, v.ruleId(), RULE, v.category(), CATEGORY, v.excerpt(), Violation.MAX_EXCERPT_LENGTH);
    }

    private static void checkFits(AuditEvent e) {
        fits("audit event", e.id(), ID, e.conversationId(), ID, e.organizationId(), ID, e.workspaceId(), ID,
                e.actorId(), ID, e.detail(), DETAIL);
    }

    /** Pairs of value and longest length; a longer value is a store failure, as a JDBC column would make it. */
    private static void fits(String what, Object... valuesAndLimits) {
        for (int i = 0; i < valuesAndLimits.length; i += 2) {
            String value = (String) valuesAndLimits[i];
            int limit = (Integer) valuesAndLimits[i + 1];
            if (value != null && value.length() > limit) {
                throw new StoreFailureException("the store could not store a " + what + ": a value of "
                        + value.length() + " chars is longer than " + limit, null);
            }
        }
    }

    @Override
    public long policyVersion() {
        return policyVersion;
    }

    @Override
    public List<dev.parley.api.policy.PolicySpec> policySpecs() {
        synchronized (policies) {
            return List.copyOf(policies.values());
        }
    }

    @Override
    public long putPolicy(dev.parley.api.policy.PolicySpec spec) {
        Objects.requireNonNull(spec, "spec");
        synchronized (policies) {
            policies.put(spec.id(), spec);
            return ++policyVersion;
        }
    }

    @Override
    public boolean removePolicy(String id) {
        synchronized (policies) {
            if (policies.remove(id) == null) {
                return false;
            }
            policyVersion++;
            return true;
        }
    }

    @Override
    public Optional<dev.parley.api.credits.ModelPrice> price(String model) {
        return credits.price(model);
    }

    @Override
    public Map<String, dev.parley.api.credits.ModelPrice> prices() {
        return credits.prices();
    }

    @Override
    public boolean putPrice(String model, dev.parley.api.credits.ModelPrice price, boolean onlyIfAbsent, Instant at) {
        return credits.putPrice(model, price, onlyIfAbsent, at);
    }

    @Override
    public dev.parley.api.credits.CreditAccount openAccount(String accountId, dev.parley.api.credits.AccountOwner owner,
                                                            Instant at) {
        return credits.openAccount(accountId, owner, at);
    }

    @Override
    public dev.parley.api.credits.CreditAccount setTerms(String accountId, dev.parley.api.credits.AccountTerms terms,
                                                         Instant at) {
        return credits.setTerms(accountId, terms, at);
    }

    @Override
    public Optional<dev.parley.api.credits.CreditAccount> account(String accountId, Instant at) {
        return credits.account(accountId, at);
    }

    @Override
    public Optional<dev.parley.api.credits.CreditAccount> account(dev.parley.api.credits.AccountOwner owner, Instant at) {
        return credits.account(owner, at);
    }

    @Override
    public dev.parley.api.credits.LedgerEntry post(String entryId, String accountId,
                                                   dev.parley.api.credits.LedgerEntry.Kind kind,
                                                   java.math.BigDecimal amount, String reason, Instant at) {
        return credits.post(entryId, accountId, kind, amount, reason, at);
    }

    @Override
    public Page<dev.parley.api.credits.LedgerEntry> ledger(String accountId, PageRequest page) {
        return credits.ledger(accountId, page);
    }

    @Override
    public dev.parley.api.credits.CreditHold reserve(dev.parley.api.credits.HoldRequest request) {
        return credits.reserve(request);
    }

    @Override
    public boolean renewHold(String holdId, Instant at, Duration lease) {
        return credits.renewHold(holdId, at, lease);
    }

    @Override
    public void releaseHold(String holdId) {
        credits.releaseHold(holdId);
    }

    @Override
    public Optional<String> admit(List<dev.parley.api.values.RateWindow> windows, Instant windowStart) {
        return rateLimits.admit(windows, windowStart);
    }

    @Override
    public void addTokens(List<String> keys, long tokens, Instant windowStart) {
        rateLimits.addTokens(keys, tokens, windowStart);
    }

    @Override
    public Page<dev.parley.api.usage.UsageRow> usage(String organizationId, dev.parley.api.usage.UsageQuery query,
                                                     PageRequest page) {
        return usage.usage(organizationId, query, page);
    }

    private Entry entry(String conversationId) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            throw new ConversationNotFoundException(conversationId);
        }
        return e;
    }

    // --- summaries ---

    @Override
    public Optional<dev.parley.api.compaction.Summary> latestSummary(String conversationId) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return Optional.empty();
        }
        synchronized (e) {
            return e.deleted || e.summaries.isEmpty() ? Optional.empty()
                    : Optional.of(e.summaries.get(e.summaries.size() - 1));
        }
    }

    @Override
    public List<dev.parley.api.compaction.Summary> summaries(String conversationId) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return List.of();
        }
        synchronized (e) {
            return e.deleted ? List.of() : List.copyOf(e.summaries);
        }
    }

    @Override
    public boolean claimCompaction(String conversationId, String token, Instant at, Duration lease) {
        Objects.requireNonNull(token, "token");
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (e.deleted || at.isBefore(e.compactionRetryAt)
                    || e.compactionToken != null && at.isBefore(e.compactionUntil)) {
                return false;
            }
            e.compactionToken = token;
            e.compactionUntil = at.plus(lease);
            return true;
        }
    }

    @Override
    public boolean renewCompaction(String conversationId, String token, Instant at, Duration lease) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (!token.equals(e.compactionToken)) {
                return false;
            }
            e.compactionUntil = at.plus(lease);
            return true;
        }
    }

    @Override
    public Optional<dev.parley.api.compaction.Summary> commitSummary(String token,
                                                                     dev.parley.api.compaction.Summary summary,
                                                                     dev.parley.api.credits.TurnCharge charge,
                                                                     dev.parley.api.usage.UsageEntry meter,
                                                                     AuditEvent event) {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(event, "event");
        checkFits(event);
        Entry e = conversations.get(summary.conversationId());
        if (e == null) {
            return Optional.empty();
        }
        dev.parley.api.compaction.Summary stored;
        synchronized (e) {
            if (e.deleted || !token.equals(e.compactionToken) || summary.toSequence() > e.messages.size()
                    || !e.summaries.isEmpty()
                    && e.summaries.get(e.summaries.size() - 1).toSequence() >= summary.toSequence()) {
                return Optional.empty();
            }
            stored = summary;
            if (charge != null) {
                stored = stored.withCredits(credits.settle(charge, summary.conversationId(), summary.id(),
                        summary.createdAt()));
            }
            if (meter != null) {
                usage.record(e.info.organizationId(), e.info.workspaceId(), summary.conversationId(), meter,
                        summary.createdAt(), summary.usage(), stored.credits());
            }
            e.summaries.add(stored);
            e.compactionToken = null;
            e.compactionRetryAt = Instant.EPOCH;
            e.compactionFailures = 0;
        }
        append(event);
        return Optional.of(stored);
    }

    @Override
    public dev.parley.api.Credits failCompaction(String conversationId, String token, Instant at, Duration retryAfter,
                                                 AuditEvent event, dev.parley.api.spi.SummaryLog.Spent spent) {
        Objects.requireNonNull(event, "event");
        checkFits(event);
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return dev.parley.api.Credits.unmetered();
        }
        dev.parley.api.Credits charged = dev.parley.api.Credits.unmetered();
        synchronized (e) {
            if (e.deleted) {
                return charged;
            }
            if (token.equals(e.compactionToken)) {
                e.compactionToken = null;
                e.compactionRetryAt = at.plus(retryAfter.multipliedBy(1L << Math.min(e.compactionFailures, 6)));
                e.compactionFailures++;
            }
            if (spent != null) {
                if (spent.charge() != null) {
                    charged = credits.settle(spent.charge(), conversationId, spent.callId(), at);
                }
                if (spent.meter() != null) {
                    usage.record(e.info.organizationId(), e.info.workspaceId(), conversationId, spent.meter(), at,
                            spent.usage(), charged);
                }
            }
        }
        append(event);
        return charged;
    }

    @Override
    public void releaseCompaction(String conversationId, String token) {
        Entry e = conversations.get(conversationId);
        if (e == null) {
            return;
        }
        synchronized (e) {
            if (token.equals(e.compactionToken)) {
                e.compactionToken = null;
            }
        }
    }
}
