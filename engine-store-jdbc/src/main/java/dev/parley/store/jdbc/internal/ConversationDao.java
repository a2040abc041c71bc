package dev.parley.store.jdbc.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ModelParameters;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.PatchValue;
import dev.parley.api.spi.StreamLocks.StreamLock;
import dev.parley.api.spi.StreamLocks.StreamStatus;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.jdbi.v3.core.statement.SqlStatement;
import org.jdbi.v3.core.statement.Update;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The statements on conversation rows: insert, reads, settings patches, deletion and pages. Not API. Stateless.
 *
 * <p>Every method runs on the caller's {@link Handle}, in whatever transaction the caller opened.
 */
public final class ConversationDao {
    /** A new conversation, with settings version 0 and {@code :count} messages (0 but for an import). */
    static final String INSERT = "INSERT INTO parley_conversation (id, organization_id, "
            + "workspace_id, repository_id, owner_id, personality, personality_id, brand_voice_id, "
            + "target_audience_id, model_name, settings_version, tokens_in, tokens_out, message_count, created_at, "
            + "updated_at, max_output_tokens, temperature, stop_sequences, response_format) VALUES (:id, :org, "
            + ":ws, :repo, :owner, :personality, :personalityId, :brandVoiceId, :targetAudienceId, :model, 0, "
            + ":in, :out, :count, :createdAt, :updatedAt, :max_output_tokens, :temperature, :stop_sequences, "
            + ":response_format)";
    /** The live conversation by id: primary key. */
    public static final String FIND_CONVERSATION = "SELECT " + Rows.CONVERSATION_COLUMNS
            + " FROM parley_conversation WHERE id = :id AND deleted_at IS NULL";
    /** The live conversation by id with its settings version: primary key. */
    static final String FIND_CONVERSATION_VERSIONED = "SELECT settings_version, " + Rows.CONVERSATION_COLUMNS
            + " FROM parley_conversation WHERE id = :id AND deleted_at IS NULL";
    /** What a turn must read fresh: settings version, totals, times, deleted flag: primary key. */
    static final String ROW_STATE = "SELECT settings_version, tokens_in, tokens_out, updated_at, deleted_at"
            + " FROM parley_conversation WHERE id = :id";
    /** The start of a settings patch; {@link #settingsPatch} adds the columns the patch changes. */
    static final String PATCH_START = "UPDATE parley_conversation SET ";
    /** The columns of a conversation's model parameters, each bound with its type (null when not set). */
    static final String PARAMETER_COLUMNS_SET = "max_output_tokens = :max_output_tokens, "
            + "temperature = :temperature, stop_sequences = :stop_sequences, response_format = :response_format, ";
    /** The end of a settings patch: the time, the version bump, and the live row by its primary key. */
    static final String PATCH_END = "updated_at = :at, settings_version = settings_version + 1 WHERE id = :id AND deleted_at IS NULL";
    /** Marks the live conversation deleted, bumping its settings version: primary key. */
    static final String DELETE = "UPDATE parley_conversation SET deleted_at = :at, "
            + "settings_version = settings_version + 1 WHERE id = :id AND deleted_at IS NULL";

    /**
     * What changes on every turn, and the version of what does not.
     *
     * @param version the row's settings version
     * @param tokensIn the conversation's input tokens so far
     * @param tokensOut the conversation's output tokens so far
     * @param updatedAt the time of the last change
     * @param deleted whether the conversation was deleted
     */
    public record RowState(long version, long tokensIn, long tokensOut, Instant updatedAt, boolean deleted) {
    }

    /**
     * What a send reads when it begins, in one statement of primary-key look-ups: the row state, streams, the
     * policy registry's version (so that a turn learns whether the rules changed without a statement of its own),
     * and whether the organization has any credit account, by the leading column of the accounts' owner key (so
     * that a turn no account can apply to learns it without a statement of its own).
     */
    public static final String ROW_STATE_WITH_STREAMS = "SELECT c.settings_version, c.tokens_in, c.tokens_out, c.updated_at, "
            + "c.deleted_at, c.streams_ended, l.holder, l.expires_at, l.cancel_requested, "
            + "(SELECT v.version FROM parley_policy_version v WHERE v.id = 1), "
            + "CASE WHEN EXISTS (SELECT 1 FROM parley_credit_account a WHERE a.organization_id = c.organization_id) "
            + "THEN 1 ELSE 0 END, c.summaries_version FROM parley_conversation c "
            + "LEFT JOIN parley_stream_lock l ON l.conversation_id = c.id AND l.expires_at >= " + Dialect.NOW
            + " WHERE c.id = ?";

    /**
     * The conversation's row state and stream status, read together ({@link #ROW_STATE_WITH_STREAMS}); empty
     * when there is no such row. A plain JDBC statement on the handle's connection: this runs on every send.
     */
    public Optional<RowStateWithStreams> rowStateWithStreams(Handle h, String conversationId) {
        try (PreparedStatement s = h.getConnection().prepareStatement(ROW_STATE_WITH_STREAMS)) {
            s.setString(1, conversationId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                RowState row = new RowState(rs.getLong(1), rs.getLong(2), rs.getLong(3),
                        rs.getObject(4, OffsetDateTime.class).toInstant(), rs.getObject(5, OffsetDateTime.class) != null);
                String holder = rs.getString(7);
                Optional<StreamLock> lock = holder == null ? Optional.empty() : Optional.of(new StreamLock(
                        conversationId, holder, rs.getObject(8, OffsetDateTime.class).toInstant(), rs.getBoolean(9)));
                long version = rs.getLong(10);
                OptionalLong policyVersion = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(version);
                boolean creditAccounts = rs.getInt(11) != 0;
                return Optional.of(new RowStateWithStreams(row, new StreamStatus(rs.getLong(6), lock), policyVersion,
                        creditAccounts, rs.getLong(12)));
            }
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /**
     * A row state with the conversation's stream status and the policy registry's version, read in one statement.
     *
     * @param row the row state
     * @param streams its stream lock and count of ended streams
     * @param policyVersion the registry's version; empty if its row is missing
     * @param creditAccounts whether the conversation's organization has any credit account (its unique key), so
     *                       that a turn no account can apply to reserves without a statement of its own
     * @param summariesVersion the count of changes to the conversation's summaries
     */
    public record RowStateWithStreams(RowState row, StreamStatus streams, OptionalLong policyVersion,
                                      boolean creditAccounts, long summariesVersion) {
    }

    /**
     * The settings of one version of a conversation row (totals and times in it are those of that read).
     *
     * @param version the row's settings version
     * @param info the conversation as read
     */
    record Versioned(long version, ConversationInfo info) {
    }

    /**
     * A settings patch as one UPDATE that names only the columns the patch changes, so that concurrent patches
     * of other fields are kept.
     *
     * @param sql the UPDATE
     * @param columns the steering and model columns, each with its change (kept ones are not in the UPDATE)
     * @param patch the patch, for its model parameters
     */
    public record SettingsPatch(String sql, Map<String, PatchValue<String>> columns, ConversationPatch patch) {
    }

    /** Whether a conversation with that id is stored, live or deleted: primary key. */
    static final String EXISTS = "SELECT COUNT(*) FROM parley_conversation WHERE id = :id";

    /** Whether a conversation with that id is stored, live or deleted. */
    public boolean exists(Handle h, String conversationId) {
        return h.createQuery(EXISTS).bind("id", conversationId).mapTo(Long.class).one() > 0;
    }

    /** Stores a new conversation; 1, the rows inserted. */
    public int insert(Handle h, ConversationInfo c) {
        return insert(h, c, 0);
    }

    /** Stores a conversation whose {@code messageCount} messages the caller stores next; 1, the rows inserted. */
    public int insert(Handle h, ConversationInfo c, long messageCount) {
        return bindParameters(h.createUpdate(INSERT), c.modelParameters())
                .bind("count", messageCount)
                .bind("id", c.id())
                .bind("org", c.organizationId())
                .bind("ws", c.workspaceId())
                .bind("repo", c.repositoryId())
                .bind("owner", c.ownerId())
                .bind("personality", c.steering().personality())
                .bind("personalityId", c.steering().personalityId())
                .bind("brandVoiceId", c.steering().brandVoiceId())
                .bind("targetAudienceId", c.steering().targetAudienceId())
                .bind("model", c.modelName())
                .bind("in", c.tokensIn())
                .bind("out", c.tokensOut())
                .bind("createdAt", Rows.utc(c.createdAt()))
                .bind("updatedAt", Rows.utc(c.updatedAt()))
                .execute();
    }

    /** Binds a conversation's model parameters to the columns of {@link #PARAMETER_COLUMNS_SET}, each typed. */
    private static <S extends SqlStatement<S>> S bindParameters(S statement, ModelParameters p) {
        return statement
                .bind("max_output_tokens", p.maxOutputTokens().isPresent() ? Integer.valueOf(p.maxOutputTokens().getAsInt()) : null)
                .bind("temperature", p.temperature().isPresent() ? Double.valueOf(p.temperature().getAsDouble()) : null)
                .bind("stop_sequences", Rows.stopSequences(p.stopSequences()))
                .bind("response_format", p.responseFormat().map(Enum::name).orElse(null));
    }

    /** The live conversation. */
    public Optional<ConversationInfo> findLive(Handle h, String conversationId) {
        return h.createQuery(FIND_CONVERSATION)
                .bind("id", conversationId)
                .map(Rows.CONVERSATION)
                .findOne();
    }

    /** The live conversation with its settings version. */
    Optional<Versioned> findVersioned(Handle h, String conversationId) {
        return h.createQuery(FIND_CONVERSATION_VERSIONED).bind("id", conversationId)
                .map((rs, ctx) -> new Versioned(rs.getLong("settings_version"), Rows.CONVERSATION.map(rs, ctx)))
                .findOne();
    }

    /** The conversation's settings version, totals, times and deleted flag; deleted conversations included. */
    Optional<RowState> rowState(Handle h, String conversationId) {
        return h.createQuery(ROW_STATE).bind("id", conversationId)
                .map((rs, ctx) -> new RowState(rs.getLong("settings_version"), rs.getLong("tokens_in"),
                        rs.getLong("tokens_out"), rs.getObject("updated_at", OffsetDateTime.class).toInstant(),
                        rs.getObject("deleted_at", OffsetDateTime.class) != null))
                .findOne();
    }

    /** The UPDATE of {@code patch}; runs no statement. */
    public static SettingsPatch settingsPatch(ConversationPatch patch) {
        Map<String, PatchValue<String>> columns = new LinkedHashMap<>();
        columns.put("personality", patch.personality());
        columns.put("personality_id", patch.personalityId());
        columns.put("brand_voice_id", patch.brandVoiceId());
        columns.put("target_audience_id", patch.targetAudienceId());
        columns.put("model_name", patch.modelName());
        StringBuilder set = new StringBuilder(PATCH_START);
        columns.forEach((column, value) -> {
            if (!value.isKeep()) {
                set.append(column).append(" = :").append(column).append(", ");
            }
        });
        if (!patch.modelParameters().isKeep()) {
            set.append(PARAMETER_COLUMNS_SET); // replaced as a whole: every one of its columns is set
        }
        set.append(PATCH_END);
        return new SettingsPatch(set.toString(), columns, patch);
    }

    /** Applies {@code patch} to the live conversation and bumps its settings version; false when none is live. */
    public boolean updateSettings(Handle h, String conversationId, SettingsPatch patch, Instant at) {
        Update update = h.createUpdate(patch.sql()).bind("at", Rows.utc(at)).bind("id", conversationId);
        patch.columns().forEach((column, value) -> {
            if (!value.isKeep()) {
                update.bind(column, value.applyTo(null));
            }
        });
        PatchValue<ModelParameters> parameters = patch.patch().modelParameters();
        if (!parameters.isKeep()) {
            // A cleared set (null) sets every column to null, as NONE does.
            bindParameters(update, Objects.requireNonNullElse(parameters.applyTo(null), ModelParameters.NONE));
        }
        return update.execute() != 0;
    }

    /** Marks the live conversation deleted and bumps its settings version; false when none is live. */
    public boolean delete(Handle h, String conversationId, Instant at) {
        return h.createUpdate(DELETE)
                .bind("at", Rows.utc(at))
                .bind("id", conversationId)
                .execute() > 0;
    }

    /** A page of the conversations {@code sql} selects, and their total (one snapshot if the caller opened one). */
    public Page<ConversationInfo> list(Handle h, ConversationQuerySql sql, PageRequest page) {
        long total = sql.bind(h.createQuery(sql.count())).mapTo(Long.class).one();
        List<ConversationInfo> items = sql.bind(h.createQuery(sql.page()))
                .bind("limit", page.size())
                .bind("offset", page.offset())
                .map(Rows.CONVERSATION)
                .list();
        return Page.of(items, page, total);
    }
}
