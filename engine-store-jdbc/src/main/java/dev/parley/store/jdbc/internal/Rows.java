package dev.parley.store.jdbc.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Credits;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.ModelParameters;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.values.AuditEvent;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jspecify.annotations.Nullable;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Row mappers and value conversions of the JDBC store; not API. Stateless. */
public final class Rows {
    private Rows() {
    }

    public static final String CONVERSATION_COLUMNS = "id, organization_id, workspace_id, repository_id, owner_id, "
            + "personality, personality_id, brand_voice_id, target_audience_id, model_name, tokens_in, tokens_out, "
            + "created_at, updated_at, max_output_tokens, temperature, stop_sequences, response_format";

    public static final String MESSAGE_COLUMNS = "conversation_id, seq, id, role, body, tokens, model, user_tag, "
            + "source_tag, status, created_at, usage_in, usage_out, credits_metered, credits_used, credits_remaining, "
            + "credits_account";

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
            instant(rs, "updated_at"),
            modelParameters(rs));

    private static ModelParameters modelParameters(ResultSet rs) throws SQLException {
        int max = rs.getInt("max_output_tokens");
        OptionalInt maxOutputTokens = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(max);
        double t = rs.getDouble("temperature");
        OptionalDouble temperature = rs.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(t);
        String stops = rs.getString("stop_sequences");
        String format = rs.getString("response_format");
        if (maxOutputTokens.isEmpty() && temperature.isEmpty() && stops == null && format == null) {
            return ModelParameters.NONE;
        }
        return new ModelParameters(maxOutputTokens, temperature, stopSequences(stops),
                format == null ? Optional.empty() : Optional.of(value(ModelParameters.ResponseFormat.class, rs,
                        "response_format")));
    }

    /** Stop sequences as one column: {@code <length>:<text>} pairs, so that any character may be in one; null for none. */
    public static @Nullable String stopSequences(List<String> stops) {
        if (stops.isEmpty()) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        for (String stop : stops) {
            out.append(stop.length()).append(':').append(stop);
        }
        return out.toString();
    }

    private static List<String> stopSequences(@Nullable String column) {
        if (column == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < column.length()) {
            int colon = column.indexOf(':', i);
            if (colon < 0) {
                throw new IllegalStateException("column stop_sequences is not a list of stop sequences");
            }
            int length = Integer.parseInt(column, i, colon, 10);
            out.add(column.substring(colon + 1, colon + 1 + length));
            i = colon + 1 + length;
        }
        return out;
    }

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
                usage,
                credits(rs));
    };

    /**
     * What a reply's turn was charged, as its row keeps it: a null {@code credits_metered} (every user message, and
     * replies of unmetered turns) is {@link Credits#unmetered()}; amounts are read as exact decimals at
     * {@link Credits#SCALE} places.
     */
    private static Credits credits(ResultSet rs) throws SQLException {
        boolean metered = rs.getBoolean("credits_metered");
        if (rs.wasNull() || !metered) {
            return Credits.unmetered();
        }
        return Credits.charged(amount(rs, "credits_used"), amount(rs, "credits_remaining"),
                rs.getString("credits_account"));
    }

    /** A NUMERIC column of credits, exact, at {@link Credits#SCALE} decimals; a missing value is an unreadable row. */
    static BigDecimal amount(ResultSet rs, String column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        if (value == null) {
            throw new IllegalStateException("column " + column + " holds no value");
        }
        return Credits.amount(column, value);
    }

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
                m.tokens(), m.model(), m.user(), m.source(), m.status(), at, m.usage(), m.credits());
    }

    /** An instant as the database keeps it: UTC, microsecond precision. */
    public static OffsetDateTime utc(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
    }

    /** The role a {@code role} column holds; a value that is no role is an unreadable row. */
    static Role role(@Nullable String name) {
        return value(Role.class, name, "role");
    }

    private static <E extends Enum<E>> E value(Class<E> type, ResultSet rs, String column) throws SQLException {
        return value(type, rs.getString(column), column);
    }

    /** The constant {@code name} names; a value this version does not know is an error naming the column. */
    static <E extends Enum<E>> E value(Class<E> type, @Nullable String name, String column) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(name)) {
                return constant;
            }
        }
        throw new IllegalStateException("column " + column + " holds " + (name == null ? "no value" : "'" + name + "'")
                + ", which is not a " + type.getSimpleName());
    }

    private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
