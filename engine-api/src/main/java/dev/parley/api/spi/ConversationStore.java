package dev.parley.api.spi;

import dev.parley.api.ConversationInfo;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where conversations, messages, turn claims, stream locks and audit events live: the union of the focused
 * interfaces {@link ConversationRepository}, {@link TurnLedger}, {@link StreamLocks} and {@link AuditLog}, so
 * that a stage or tool can depend on only the part it uses, and a further capability (a credits ledger, a
 * policy registry) comes as an interface of its own that a store may also implement, without breaking the
 * stores that do not. Every method is atomic; implementations must be thread safe and report their own
 * failures as {@link dev.parley.api.StoreFailureException}.
 *
 * <p>Deleted conversations are soft-deleted: they stay in the store but no read or list returns them, and no
 * write changes them.
 *
 * <p><b>Leases.</b> Message-id claims and stream locks are leases. A store shared by several engines measures
 * them by one clock that all of them share, never by each engine's own, so that engines whose clocks disagree
 * cannot end each other's live leases: the JDBC store uses the database server's clock, and the {@code at} and
 * {@code now} arguments of the lease methods are then only recorded. A store private to one engine (the
 * in-memory store) uses those arguments, the engine's clock.
 */
public interface ConversationStore extends ConversationRepository, TurnLedger, StreamLocks, AuditLog, AutoCloseable {

    /**
     * The live conversation and its {@link #streamStatus stream status}, as a send reads them when it begins;
     * empty when the conversation does not exist or is deleted. The status may be read before the conversation
     * but not after it (a send fenced by an older count only stores nothing more often). The default calls
     * {@link #find} and then {@link #streamStatus}; a store may read both in one statement.
     */
    default Optional<ConversationState> findWithStreams(String conversationId, Instant now) {
        StreamStatus streams = streamStatus(conversationId, now);
        return find(conversationId).map(info -> new ConversationState(info, streams));
    }

    /**
     * A conversation and its streams, read together by {@link #findWithStreams}.
     *
     * @param conversation the live conversation
     * @param streams its stream lock and the number of streams ended on it
     * @param policyVersion for a store that is a {@link PolicyRegistry}, its {@link PolicyRegistry#policyVersion()}
     *                      read in the same statement, which spares the turn a read of its own; empty otherwise
     * @param creditAccounts whether credit accounts may apply to the conversation's turns
     * @param summariesVersion for a store that is a {@link SummaryLog}, a count of the changes to the conversation's
     *                         summaries (0 for none ever stored), read in the same statement: a turn that finds the
     *                         count it saw before reuses the latest summary it read then, and one that finds 0 reads
     *                         none; empty when the store does not say
     */
    record ConversationState(ConversationInfo conversation, StreamStatus streams, java.util.OptionalLong policyVersion,
                             boolean creditAccounts, java.util.OptionalLong summariesVersion) {
        public ConversationState {
            Objects.requireNonNull(conversation, "conversation");
            Objects.requireNonNull(streams, "streams");
            Objects.requireNonNull(policyVersion, "policyVersion");
            Objects.requireNonNull(summariesVersion, "summariesVersion");
        }

        /** A state that says nothing of summaries. */
        public ConversationState(ConversationInfo conversation, StreamStatus streams,
                                 java.util.OptionalLong policyVersion, boolean creditAccounts) {
            this(conversation, streams, policyVersion, creditAccounts, java.util.OptionalLong.empty());
        }

        /** The same state, with the count of changes to the conversation's summaries the store read with it. */
        public ConversationState withSummariesVersion(long version) {
            return new ConversationState(conversation, streams, policyVersion, creditAccounts,
                    java.util.OptionalLong.of(version));
        }

        /** A state that says nothing of credit accounts: they may apply. */
        public ConversationState(ConversationInfo conversation, StreamStatus streams,
                                 java.util.OptionalLong policyVersion) {
            this(conversation, streams, policyVersion, true);
        }

        /**
         * The same state, saying whether credit accounts may apply to the conversation's turns: false when the
         * store read, with the conversation, that its organization has none, so that the turn's budget stage need
         * not ask (a turn that began before its organization had an account is then not metered).
         */
        public ConversationState withCreditAccounts(boolean mayApply) {
            return new ConversationState(conversation, streams, policyVersion, mayApply, summariesVersion);
        }

        /** A state without the registry's version. */
        public ConversationState(ConversationInfo conversation, StreamStatus streams) {
            this(conversation, streams, java.util.OptionalLong.empty());
        }
    }

    /** Releases the store's resources. The default does nothing. */
    @Override
    default void close() {
    }
}
