package dev.parley.store.jdbc.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.spi.AuditEvent;
import org.jdbi.v3.core.mapper.RowMapper;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Row mappers and value conversions of the JDBC store. Stateless. */
public final class Rows {
    private Rows() {
    }

    public static final String CONVERSATION_COLUMNS = "id, organization_id, workspace_id, repository_id, owner_id, "
            + "personality, personality_id, brand_voice_id, target_audience_id, model_name, tokens_in, tokens_out, "
            + "created_at, updated_at";

    public static final String MESSAGE_COLUMNS = "conversation_id, seq, id, role, body, tokens, model, user_tag, "
            + "source_tag, status, created_at, usage_in, usage_out";

    public static final String EVENT_COLUMNS = "id, type, conversation_id, organization_id, workspace_id, actor_id, "
            + "occurred_at, detail";

    public static final RowMapper<ConversationInfo> CONVERSATION = (rs, ctx) -> new ConversationInfo(
            rs.getString("id"),
            rs.getString("organization_id"),
            rs.getString("workspace_id"),
            rs.getString("repository_id"),
            rs.getString("owner_id"),
            new Steering(rs.getString("personality"), rs.getString("personality_id"), rs.getString("brand_voice_id"),
                    rs.getString("target_audience_id")),
            rs.getString("model_name"),
            rs.getLong("tokens_in"),
            rs.getLong("tokens_out"),
            instant(rs, "created_at"),
            instant(rs, "updated_at"));

    public static final RowMapper<Message> MESSAGE = (rs, ctx) -> {
        long in = rs.getLong("usage_in");
        Usage usage = rs.wasNull() ? null : new Usage(in, rs.getLong("usage_out"));
        return new Message(
                rs.getString("id"),
                rs.getString("conversation_id"),
                rs.getLong("seq"),
                value(Role.class, rs, "role"),
                rs.getString("body"),
                rs.getInt("tokens"),
                rs.getString("model"),
                rs.getString("user_tag"),
                rs.getString("source_tag"),
                value(MessageStatus.class, rs, "status"),
                instant(rs, "created_at"),
                usage);
    };

    public static final RowMapper<AuditEvent> EVENT = (rs, ctx) -> new AuditEvent(
            rs.getString("id"),
            value(AuditEvent.Type.class, rs, "type"),
            rs.getString("conversation_id"),
            rs.getString("organization_id"),
            rs.getString("workspace_id"),
            rs.getString("actor_id"),
            instant(rs, "occurred_at"),
            rs.getString("detail"));

    /**
     * The message as the database keeps it: its time cut to microseconds, so that what a commit returns equals
     * what a later read returns.
     */
    public static Message stored(Message m) {
        Instant at = m.createdAt().truncatedTo(ChronoUnit.MICROS);
        return at.equals(m.createdAt()) ? m : new Message(m.id(), m.conversationId(), m.sequence(), m.role(), m.text(),
                m.tokens(), m.model(), m.user(), m.source(), m.status(), at, m.usage());
    }

    /** An instant as the database keeps it: UTC, microsecond precision. */
    public static OffsetDateTime utc(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
    }

    /** The constant a column names; a value this version does not know is an error naming the column. */
    private static <E extends Enum<E>> E value(Class<E> type, ResultSet rs, String column) throws SQLException {
        String name = rs.getString(column);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(name)) {
                return constant;
            }
        }
        throw new IllegalStateException("column " + column + " holds " + (name == null ? "no value" : "'" + name + "'")
                + ", which is not a " + type.getSimpleName());
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
