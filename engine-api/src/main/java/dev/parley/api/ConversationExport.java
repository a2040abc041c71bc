package dev.parley.api;

import dev.parley.api.internal.Checks;
import dev.parley.api.internal.Json;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

import org.jspecify.annotations.Nullable;

/**
 * A whole conversation as data, to move it between stores (from H2 to PostgreSQL, say) or to hand a user what is
 * kept about them: its metadata, steering, model parameters and totals, and every message with its tokens,
 * status, tags, usage and credits, oldest first. Made by {@link Conversation#export()}, written by
 * {@link #toJson()}, read back by {@link #fromJson(String)} and stored again by
 * {@link Conversations#importConversation(ConversationExport)}. Immutable and thread safe; like the records it
 * holds, its {@code toString} never shows message text.
 *
 * <p>The JSON form is one object, the same bytes for the same conversation from every store:
 * <pre>{@code
 * {"format":"parley-conversation","version":2,
 *  "conversation":{"id":…,"organizationId":…,"workspaceId":…,"repositoryId":…|null,"ownerId":…,
 *    "steering":{"personality":…|null,"personalityId":…|null,"brandVoiceId":…|null,"targetAudienceId":…|null},
 *    "modelName":…|null,
 *    "modelParameters":{"maxOutputTokens":n|null,"temperature":x|null,"stopSequences":[…],"responseFormat":"TEXT"|"JSON"|null},
 *    "tokensIn":n,"tokensOut":n,"createdAt":"2026-12-04T10:15:30.123456Z","updatedAt":…},
 *  "messages":[{"id":…,"sequence":1,"role":"USER"|"ASSISTANT","text":…,"tokens":n,"model":…|null,"user":…|null,
 *    "source":…|null,"status":"COMPLETE"|…,"createdAt":…,"usage":{"tokensIn":n,"tokensOut":n}|null,
 *    "credits":{"used":"0.000150000","remaining":"9.999850000","accountId":…}|null}, …],
 *  "summaries":[{"id":…,"fromSequence":1,"toSequence":n,"text":…,"tokens":n,"model":…,
 *    "usage":{"tokensIn":n,"tokensOut":n},"credits":{…}|null,"createdAt":…}, …]}
 * }</pre>
 * Every member is always written (null where a value is absent), in this order, without whitespace; times are
 * ISO-8601 instants in UTC; credit amounts are decimal strings, so that no digit is lost. Reading is strict: an
 * unknown format or version, a missing, extra or mistyped member, or a value out of the range the engine accepts
 * elsewhere is an {@link InvalidRequestException} naming the member (for example {@code messages[3].text}).
 * Version 1, written before summaries were exported, is read too, as an export without summaries.
 *
 * @param conversation the conversation's metadata and totals
 * @param messages its messages, oldest first, numbered from 1 without gaps
 * @param summaries its compaction summaries ({@link dev.parley.api.compaction.Summary}), oldest first, each covering
 *                  more of the messages than the one before
 */
public record ConversationExport(ConversationInfo conversation, List<Message> messages,
                                 List<dev.parley.api.compaction.Summary> summaries) {
    /** The {@code format} member of the JSON form. */
    public static final String FORMAT = "parley-conversation";
    /** The {@code version} member of the JSON form this release writes. */
    public static final int VERSION = 2;

    /** An export of a conversation without summaries. */
    public ConversationExport(ConversationInfo conversation, List<Message> messages) {
        this(conversation, messages, List.of());
    }

    /**
     * Checks that the messages belong to the conversation, are numbered 1, 2, 3, … in order and have ids of their own.
     *
     * @throws InvalidRequestException naming the first message that does not
     */
    public ConversationExport {
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(messages, "messages");
        messages = List.copyOf(messages);
        Objects.requireNonNull(summaries, "summaries");
        summaries = List.copyOf(summaries);
        java.util.Set<String> summaryIds = new java.util.HashSet<>();
        long covered = 0;
        for (int i = 0; i < summaries.size(); i++) {
            dev.parley.api.compaction.Summary sm = summaries.get(i);
            if (!sm.conversationId().equals(conversation.id())) {
                throw new InvalidRequestException("summaries[" + i + "].conversationId",
                        "must be the conversation's id");
            }
            if (!summaryIds.add(sm.id())) {
                throw new InvalidRequestException("summaries[" + i + "].id", "is the id of an earlier summary");
            }
            if (sm.toSequence() <= covered || sm.toSequence() > messages.size()) {
                throw new InvalidRequestException("summaries[" + i + "].toSequence", "must be after the previous "
                        + "summary's and at most the number of messages, " + messages.size());
            }
            covered = sm.toSequence();
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            if (!ids.add(m.id())) {
                throw new InvalidRequestException("messages[" + i + "].id", "is the id of an earlier message");
            }
            if (!m.conversationId().equals(conversation.id())) {
                throw new InvalidRequestException("messages[" + i + "].conversationId",
                        "must be the conversation's id");
            }
            if (m.sequence() != i + 1) {
                throw new InvalidRequestException("messages[" + i + "].sequence", "must be " + (i + 1)
                        + ": messages are numbered from 1 without gaps, oldest first");
            }
        }
    }

    /** The conversation's id, message count and totals; never message text. */
    @Override
    public String toString() {
        return "ConversationExport{id=" + conversation.id() + ", messages=" + messages.size() + ", summaries="
                + summaries.size() + ", tokensIn="
                + conversation.tokensIn() + ", tokensOut=" + conversation.tokensOut() + "}";
    }

    /** The export in its JSON form (see the class comment): the same text for the same conversation. */
    public String toJson() {
        StringBuilder out = new StringBuilder(256 + messages.size() * 512);
        ConversationInfo c = conversation;
        out.append("{\"format\":");
        Json.quote(out, FORMAT).append(",\"version\":").append(VERSION).append(",\"conversation\":{\"id\":");
        Json.quote(out, c.id()).append(",\"organizationId\":");
        Json.quote(out, c.organizationId()).append(",\"workspaceId\":");
        Json.quote(out, c.workspaceId()).append(",\"repositoryId\":");
        Json.quote(out, c.repositoryId()).append(",\"ownerId\":");
        Json.quote(out, c.ownerId()).append(",\"steering\":{\"personality\":");
        Json.quote(out, c.steering().personality()).append(",\"personalityId\":");
        Json.quote(out, c.steering().personalityId()).append(",\"brandVoiceId\":");
        Json.quote(out, c.steering().brandVoiceId()).append(",\"targetAudienceId\":");
        Json.quote(out, c.steering().targetAudienceId()).append("},\"modelName\":");
        Json.quote(out, c.modelName()).append(",\"modelParameters\":{\"maxOutputTokens\":");
        ModelParameters p = c.modelParameters();
        out.append(p.maxOutputTokens().isPresent() ? Integer.toString(p.maxOutputTokens().getAsInt()) : "null");
        out.append(",\"temperature\":");
        out.append(p.temperature().isPresent() ? Double.toString(p.temperature().getAsDouble()) : "null");
        out.append(",\"stopSequences\":[");
        for (int i = 0; i < p.stopSequences().size(); i++) {
            Json.quote(out.append(i == 0 ? "" : ","), p.stopSequences().get(i));
        }
        out.append("],\"responseFormat\":");
        Json.quote(out, p.responseFormat().map(Enum::name).orElse(null));
        out.append("},\"tokensIn\":").append(c.tokensIn()).append(",\"tokensOut\":").append(c.tokensOut());
        out.append(",\"createdAt\":");
        Json.quote(out, c.createdAt().toString()).append(",\"updatedAt\":");
        Json.quote(out, c.updatedAt().toString()).append("},\"messages\":[");
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            out.append(i == 0 ? "{\"id\":" : ",{\"id\":");
            Json.quote(out, m.id()).append(",\"sequence\":").append(m.sequence()).append(",\"role\":");
            Json.quote(out, m.role().name()).append(",\"text\":");
            Json.quote(out, m.text()).append(",\"tokens\":").append(m.tokens()).append(",\"model\":");
            Json.quote(out, m.model()).append(",\"user\":");
            Json.quote(out, m.user()).append(",\"source\":");
            Json.quote(out, m.source()).append(",\"status\":");
            Json.quote(out, m.status().name()).append(",\"createdAt\":");
            Json.quote(out, m.createdAt().toString()).append(",\"usage\":");
            if (m.usage() == null) {
                out.append("null");
            } else {
                out.append("{\"tokensIn\":").append(m.usage().tokensIn()).append(",\"tokensOut\":")
                        .append(m.usage().tokensOut()).append('}');
            }
            out.append(",\"credits\":");
            credits(out, m.credits());
            out.append('}');
        }
        out.append("],\"summaries\":[");
        for (int i = 0; i < summaries.size(); i++) {
            dev.parley.api.compaction.Summary sm = summaries.get(i);
            out.append(i == 0 ? "{\"id\":" : ",{\"id\":");
            Json.quote(out, sm.id()).append(",\"fromSequence\":").append(sm.fromSequence())
                    .append(",\"toSequence\":").append(sm.toSequence()).append(",\"text\":");
            Json.quote(out, sm.text()).append(",\"tokens\":").append(sm.tokens()).append(",\"model\":");
            Json.quote(out, sm.model()).append(",\"usage\":{\"tokensIn\":").append(sm.usage().tokensIn())
                    .append(",\"tokensOut\":").append(sm.usage().tokensOut()).append("},\"credits\":");
            credits(out, sm.credits());
            out.append(",\"createdAt\":");
            Json.quote(out, sm.createdAt().toString()).append('}');
        }
        return out.append("]}").toString();
    }

    private static void credits(StringBuilder out, Credits credits) {
        if (!credits.metered()) {
            out.append("null");
        } else {
            out.append("{\"used\":");
            Json.quote(out, credits.used().toPlainString()).append(",\"remaining\":");
            Json.quote(out, credits.remaining().toPlainString()).append(",\"accountId\":");
            Json.quote(out, credits.accountId()).append('}');
        }
    }

    /**
     * Reads an export's JSON form, checking every member as the engine checks the same values when a host passes
     * them (ids, labels, text lengths, times, token counts, model parameters).
     *
     * @param json the text {@link #toJson()} wrote
     * @throws InvalidRequestException naming the member that is missing, unknown, mistyped or out of range, or
     *                                 {@code json} when it is not JSON
     */
    public static ConversationExport fromJson(String json) {
        Reader root = new Reader("json", Json.parse("json", json), "");
        Map<String, Object> top = root.map();
        if (!FORMAT.equals(root.string(top, "format"))) {
            throw new InvalidRequestException("format", "must be " + FORMAT);
        }
        long version = root.integer(top, "version", 1, Integer.MAX_VALUE);
        if (version != 1 && version != VERSION) {
            throw new InvalidRequestException("version", "must be 1 or " + VERSION);
        }
        root.object(version == 1 ? List.of("format", "version", "conversation", "messages")
                : List.of("format", "version", "conversation", "messages", "summaries"));
        Reader cr = root.at("conversation", top.get("conversation"));
        Map<String, Object> c = cr.object(List.of("id", "organizationId", "workspaceId", "repositoryId", "ownerId",
                "steering", "modelName", "modelParameters", "tokensIn", "tokensOut", "createdAt", "updatedAt"));
        String id = Checks.id(cr.name("id"), cr.string(c, "id"));
        Reader sr = cr.at("steering", c.get("steering"));
        Map<String, Object> s = sr.object(List.of("personality", "personalityId", "brandVoiceId", "targetAudienceId"));
        Steering steering = new Steering(
                Checks.optionalText(sr.name("personality"), sr.optionalString(s, "personality"),
                        Limits.MAX_STEERING_LENGTH),
                Checks.optionalId(sr.name("personalityId"), sr.optionalString(s, "personalityId")),
                Checks.optionalId(sr.name("brandVoiceId"), sr.optionalString(s, "brandVoiceId")),
                Checks.optionalId(sr.name("targetAudienceId"), sr.optionalString(s, "targetAudienceId")));
        Reader pr = cr.at("modelParameters", c.get("modelParameters"));
        Map<String, Object> p = pr.object(List.of("maxOutputTokens", "temperature", "stopSequences", "responseFormat"));
        ModelParameters parameters;
        try {
            Long max = pr.optionalInteger(p, "maxOutputTokens", 1, Limits.MAX_OUTPUT_TOKENS);
            BigDecimal temperature = pr.optionalNumber(p, "temperature");
            String format = pr.optionalString(p, "responseFormat");
            parameters = new ModelParameters(max == null ? OptionalInt.empty() : OptionalInt.of(max.intValue()),
                    temperature == null ? OptionalDouble.empty() : OptionalDouble.of(temperature.doubleValue()),
                    pr.strings(p, "stopSequences"),
                    format == null ? Optional.empty() : Optional.of(pr.constant(ModelParameters.ResponseFormat.class,
                            "responseFormat", format)));
        } catch (InvalidRequestException e) {
            throw e.field().startsWith("conversation.") ? e
                    : new InvalidRequestException(pr.name(e.field()), e.getMessage().substring(e.field().length() + 2));
        }
        ConversationInfo info = new ConversationInfo(id,
                Checks.id(cr.name("organizationId"), cr.string(c, "organizationId")),
                Checks.id(cr.name("workspaceId"), cr.string(c, "workspaceId")),
                Checks.optionalId(cr.name("repositoryId"), cr.optionalString(c, "repositoryId")),
                Checks.id(cr.name("ownerId"), cr.string(c, "ownerId")),
                steering,
                Checks.optionalLabel(cr.name("modelName"), cr.optionalString(c, "modelName"), Limits.MAX_TAG_LENGTH),
                cr.integer(c, "tokensIn", 0, Long.MAX_VALUE),
                cr.integer(c, "tokensOut", 0, Long.MAX_VALUE),
                cr.time(c, "createdAt"),
                cr.time(c, "updatedAt"),
                parameters);
        Reader mr = root.at("messages", top.get("messages"));
        List<Object> items = mr.array();
        List<Message> messages = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            messages.add(message(new Reader("messages[" + i + "]", items.get(i), "messages[" + i + "]."), id));
        }
        List<dev.parley.api.compaction.Summary> summaries = new ArrayList<>();
        if (version > 1) {
            List<Object> listed = root.at("summaries", top.get("summaries")).array();
            for (int i = 0; i < listed.size(); i++) {
                summaries.add(summary(new Reader("summaries[" + i + "]", listed.get(i), "summaries[" + i + "]."), id));
            }
        }
        return new ConversationExport(info, messages, summaries);
    }

    private static dev.parley.api.compaction.Summary summary(Reader r, String conversationId) {
        Map<String, Object> m = r.object(List.of("id", "fromSequence", "toSequence", "text", "tokens", "model",
                "usage", "credits", "createdAt"));
        Reader ur = r.at("usage", m.get("usage"));
        Map<String, Object> u = ur.object(List.of("tokensIn", "tokensOut"));
        Usage usage = new Usage(ur.integer(u, "tokensIn", 0, Long.MAX_VALUE), ur.integer(u, "tokensOut", 0, Long.MAX_VALUE));
        long from = r.integer(m, "fromSequence", 1, 1);
        long to = r.integer(m, "toSequence", 1, Long.MAX_VALUE);
        String text = Checks.text(r.name("text"), r.string(m, "text"), Limits.MAX_TEXT_LENGTH);
        return new dev.parley.api.compaction.Summary(Checks.id(r.name("id"), r.string(m, "id")), conversationId, from,
                to, text, (int) r.integer(m, "tokens", 0, Integer.MAX_VALUE),
                Checks.label(r.name("model"), r.string(m, "model"), Limits.MAX_TAG_LENGTH), usage,
                credits(r, m), r.time(m, "createdAt"));
    }

    private static Credits credits(Reader r, Map<String, Object> m) {
        if (m.get("credits") == Json.NULL) {
            return Credits.unmetered();
        }
        Reader kr = r.at("credits", m.get("credits"));
        Map<String, Object> k = kr.object(List.of("used", "remaining", "accountId"));
        return new Credits(true, kr.decimal(k, "used"), kr.decimal(k, "remaining"),
                Checks.id(kr.name("accountId"), kr.string(k, "accountId")));
    }

    private static Message message(Reader r, String conversationId) {
        Map<String, Object> m = r.object(List.of("id", "sequence", "role", "text", "tokens", "model", "user", "source",
                "status", "createdAt", "usage", "credits"));
        Role role = r.constant(Role.class, "role", r.string(m, "role"));
        Usage usage = null;
        if (m.get("usage") != Json.NULL) {
            Reader ur = r.at("usage", m.get("usage"));
            Map<String, Object> u = ur.object(List.of("tokensIn", "tokensOut"));
            usage = new Usage(ur.integer(u, "tokensIn", 0, Long.MAX_VALUE), ur.integer(u, "tokensOut", 0, Long.MAX_VALUE));
        } else if (role == Role.ASSISTANT) {
            throw new InvalidRequestException(r.name("usage"), "is required for a reply");
        }
        Credits credits = credits(r, m);
        // Stored text may be empty (a cancelled stream keeps what it had, which can be nothing), so only its size
        // and encoding are checked here.
        String text = r.string(m, "text");
        Checks.optionalText(r.name("text"), text, Limits.MAX_TEXT_LENGTH);
        return new Message(Checks.id(r.name("id"), r.string(m, "id")), conversationId,
                r.integer(m, "sequence", 1, Long.MAX_VALUE), role, text,
                (int) r.integer(m, "tokens", 0, Integer.MAX_VALUE),
                Checks.optionalLabel(r.name("model"), r.optionalString(m, "model"), Limits.MAX_TAG_LENGTH),
                Checks.optionalLabel(r.name("user"), r.optionalString(m, "user"), Limits.MAX_TAG_LENGTH),
                Checks.optionalLabel(r.name("source"), r.optionalString(m, "source"), Limits.MAX_TAG_LENGTH),
                r.constant(MessageStatus.class, "status", r.string(m, "status")),
                r.time(m, "createdAt"), usage, credits);
    }

    /** Reads one JSON value at a path, naming the path in every error. */
    private record Reader(String path, Object value, String prefix) {
        String name(String member) {
            return prefix + member;
        }

        Reader at(String member, Object child) {
            return new Reader(prefix + member, child, prefix + member + ".");
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> map() {
            if (!(value instanceof Map)) {
                throw new InvalidRequestException(path, "must be an object");
            }
            return (Map<String, Object>) value;
        }

        Map<String, Object> object(List<String> members) {
            Map<String, Object> map = map();
            for (String member : members) {
                if (!map.containsKey(member)) {
                    throw new InvalidRequestException(name(member), "is required");
                }
            }
            for (String member : map.keySet()) {
                if (!members.contains(member)) {
                    throw new InvalidRequestException(path, "has an unknown member");
                }
            }
            return map;
        }

        @SuppressWarnings("unchecked")
        List<Object> array() {
            if (!(value instanceof List)) {
                throw new InvalidRequestException(path, "must be an array");
            }
            return (List<Object>) value;
        }

        String string(Map<String, Object> map, String member) {
            Object v = map.get(member);
            if (!(v instanceof String)) {
                throw new InvalidRequestException(name(member), "must be a string");
            }
            return (String) v;
        }

        @Nullable String optionalString(Map<String, Object> map, String member) {
            return map.get(member) == Json.NULL ? null : string(map, member);
        }

        List<String> strings(Map<String, Object> map, String member) {
            Object v = map.get(member);
            if (!(v instanceof List<?> list)) {
                throw new InvalidRequestException(name(member), "must be an array of strings");
            }
            List<String> out = new ArrayList<>(list.size());
            for (Object item : list) {
                if (!(item instanceof String str)) {
                    throw new InvalidRequestException(name(member), "must be an array of strings");
                }
                out.add(str);
            }
            return out;
        }

        @Nullable BigDecimal optionalNumber(Map<String, Object> map, String member) {
            Object v = map.get(member);
            if (v == Json.NULL) {
                return null;
            }
            if (!(v instanceof BigDecimal number)) {
                throw new InvalidRequestException(name(member), "must be a number");
            }
            return number;
        }

        long integer(Map<String, Object> map, String member, long min, long max) {
            Long v = optionalInteger(map, member, min, max);
            if (v == null) {
                throw new InvalidRequestException(name(member), "is required");
            }
            return v;
        }

        @Nullable Long optionalInteger(Map<String, Object> map, String member, long min, long max) {
            BigDecimal number = optionalNumber(map, member);
            if (number == null) {
                return null;
            }
            long v;
            try {
                v = number.longValueExact();
            } catch (ArithmeticException e) {
                throw new InvalidRequestException(name(member), "must be a whole number between " + min + " and " + max);
            }
            if (v < min || v > max) {
                throw new InvalidRequestException(name(member), "must be between " + min + " and " + max);
            }
            return v;
        }

        BigDecimal decimal(Map<String, Object> map, String member) {
            String v = string(map, member);
            BigDecimal d;
            try {
                d = new BigDecimal(v);
            } catch (NumberFormatException e) {
                throw new InvalidRequestException(name(member), "must be a decimal number");
            }
            if (d.signum() < 0 || d.scale() > Credits.SCALE || d.precision() - d.scale() > 21) {
                throw new InvalidRequestException(name(member), "must be a decimal of at least 0, at most "
                        + Credits.SCALE + " decimals and 21 digits before the point");
            }
            return d.setScale(Credits.SCALE);
        }

        Instant time(Map<String, Object> map, String member) {
            String v = string(map, member);
            Instant t;
            try {
                t = Instant.parse(v);
            } catch (DateTimeParseException e) {
                throw new InvalidRequestException(name(member), "must be an ISO-8601 instant such as "
                        + "2026-12-04T10:15:30Z");
            }
            return Checks.time(name(member), t);
        }

        <E extends Enum<E>> E constant(Class<E> type, String member, String v) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(v)) {
                    return e;
                }
            }
            throw new InvalidRequestException(name(member), "must be one of "
                    + java.util.Arrays.toString(type.getEnumConstants()));
        }
    }
}
