package dev.parley.samples.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.api.AccessDeniedException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.ErrorCode;
import dev.parley.api.Limits;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.samples.server.config.ConfigLoader;
import dev.parley.samples.server.config.ServerConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * The workspace-scoped conversation API, under {@code /api/v1/workspaces/{ws}/conversations}:
 *
 * <ul>
 *   <li>{@code POST} creates a conversation with a server-generated id and optional steering ({@code personality},
 *       {@code personalityId} (a number, kept for reference only), {@code brandVoiceId}, {@code targetAudienceId},
 *       {@code modelName}); {@code GET} lists them, newest first; {@code GET .../{id}} reads one.</li>
 *   <li>{@code PATCH .../{id}} changes steering: an omitted field keeps its value, an explicit null clears it, and at
 *       least one field is required.</li>
 *   <li>{@code POST .../{id}/messages} sends a message ({@code id} from the client, {@code text}, optional
 *       {@code createdAt}, {@code additionalContext: [{id, content, category_name}]} for this turn only, and
 *       {@code contextSize}, the history's token budget) and answers with the stored assistant message. Sending an
 *       id again returns the stored reply without a model call. {@code GET} lists the messages, oldest first.</li>
 *   <li>{@code POST .../{id}/message-streams} takes the same body and answers with Server-Sent Events
 *       ({@link MessageStream}); a second stream on the conversation while one runs gets 409
 *       {@code conversationLocked}. {@code DELETE} cancels the active stream, keeping its partial reply, and is a
 *       200 no-op when none is active.</li>
 * </ul>
 * Lists are {@code {page: {size, totalElements, totalPages, currentPage}, data}}, paged by {@code page} (from 1) and
 * {@code size} (default 20, at most 100). Every call needs a bearer token with a claim on the path's workspace (a role
 * in it, or organization admin of its organization), else 403; conversations are reached as the engine allows the
 * caller. Errors are {@code {code, message}}, the code a camel-case engine code ({@code conversationLocked},
 * {@code invalidRequest}, ...) or {@code unauthorized}, the message naming the field. Thread safe.
 */
final class WorkspaceApi {
    /** The path prefix of this API. */
    static final String PREFIX = "/api/v1/";
    private static final String CONVERSATIONS = "/api/v1/workspaces/{ws}/conversations";
    private static final String CONVERSATION = CONVERSATIONS + "/{id}";

    private static final Set<String> STEERING_FIELDS = Set.of("personality", "personalityId", "brandVoiceId",
            "targetAudienceId", "modelName");
    private static final Set<String> MESSAGE_FIELDS = Set.of("id", "text", "createdAt", "additionalContext",
            "contextSize");
    private static final Set<String> CONTEXT_FIELDS = Set.of("id", "content", "category_name");
    /** How long a cancel waits for this server's own stream to store its partial reply before answering. */
    private static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

    private final ConversationEngine engine;
    private final Authenticator authenticator;
    private final Map<String, ServerConfig.Workspace> workspaces = new HashMap<>();
    private final ObjectMapper reader = ConfigLoader.strictMapper();
    /** The streams this server is sending, of every API. */
    private final ActiveStreams streams;

    WorkspaceApi(ConversationEngine engine, Authenticator authenticator, ServerConfig config, ActiveStreams streams) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.streams = Objects.requireNonNull(streams, "streams");
        for (ServerConfig.Workspace ws : config.workspaces()) {
            workspaces.put(Objects.requireNonNull(ws.id()), ws);
        }
    }

    /** Whether a request path belongs to this API, so that its errors take this API's shape. */
    static boolean serves(String path) {
        return path.startsWith(PREFIX);
    }

    /** Adds the API's routes. */
    void register(RoutesConfig routes) {
        routes.post(CONVERSATIONS, this::create);
        routes.get(CONVERSATIONS, this::list);
        routes.get(CONVERSATION, this::show);
        routes.patch(CONVERSATION, this::patch);
        routes.post(CONVERSATION + "/messages", this::send);
        routes.get(CONVERSATION + "/messages", this::messages);
        routes.post(CONVERSATION + "/message-streams", this::stream);
        routes.delete(CONVERSATION + "/message-streams", this::cancel);
    }

    /** The caller's view, once the token is known and has a claim on the path's workspace. */
    private Conversations conversations(Context ctx) {
        return engine.as(caller(ctx));
    }

    /** The caller of the token, once it is known and has a claim on the path's workspace. */
    private Caller caller(Context ctx) {
        Caller caller = authenticator.bearer(ctx.header("Authorization"));
        ServerConfig.Workspace ws = workspaces.get(ctx.pathParam("ws"));
        if (ws == null || !caller.organizationId().equals(ws.organizationId())
                || !caller.canUseWorkspace(Objects.requireNonNull(ws.id()))) {
            throw new ApiException(403, "workspaceId: the token has no claim on this workspace");
        }
        return caller;
    }

    /**
     * The path's conversation, which must be in the path's workspace: 404 when it is not, also when the caller may
     * not see it (a 403 would tell that the id exists elsewhere); 403 for a conversation of this workspace that the
     * caller may not reach.
     */
    private Conversation conversation(Conversations conversations, Context ctx) {
        String id = ctx.pathParam("id");
        String ws = ctx.pathParam("ws");
        Conversation c;
        try {
            c = conversations.get(id);
        } catch (ConversationNotFoundException unknown) {
            throw notHere(); // the same answer as for a conversation of another workspace
        } catch (AccessDeniedException denied) {
            if (!ws.equals(workspaceOf(conversations.caller(), id))) {
                throw notHere();
            }
            throw denied;
        }
        if (!c.info().workspaceId().equals(ws)) {
            throw notHere();
        }
        return c;
    }

    private static ApiException notHere() {
        return new ApiException(404, "conversation not found in this workspace");
    }

    /** The workspace of a conversation the caller may not see, read as an admin of the caller's organization. */
    private @Nullable String workspaceOf(Caller caller, String conversationId) {
        Caller admin = Caller.user(caller.userId(), caller.organizationId()).organizationAdmin().build();
        try {
            return engine.as(admin).get(conversationId).info().workspaceId();
        } catch (ParleyException e) {
            return null;
        }
    }

    private void create(Context ctx) {
        Conversations conversations = conversations(ctx);
        JsonBody body = JsonBody.parseOptional(reader, ctx.bodyAsBytes(), STEERING_FIELDS);
        NewConversation request = NewConversation.inWorkspace(ctx.pathParam("ws"))
                .personality(body.optionalText("personality"))
                .personalityId(personalityId(body))
                .brandVoiceId(body.optionalText("brandVoiceId"))
                .targetAudienceId(body.optionalText("targetAudienceId"))
                .modelName(body.optionalText("modelName"))
                .build();
        Conversation c = conversations.create(request);
        RepositoryApi.respond(ctx, 201, conversation(c.info()));
    }

    private void list(Context ctx) {
        Conversations conversations = conversations(ctx);
        PageRequest page = RepositoryApi.page(ctx);
        Page<ConversationInfo> list = conversations.list(ConversationQuery.inWorkspace(ctx.pathParam("ws"), page));
        RepositoryApi.respond(ctx, 200, Json.object("page", Json.page(list),
                "data", list.items().stream().map(this::conversation).toList()));
    }

    private void show(Context ctx) {
        Conversations conversations = conversations(ctx);
        RepositoryApi.respond(ctx, 200, conversation(conversation(conversations, ctx).info()));
    }

    private void patch(Context ctx) {
        Conversations conversations = conversations(ctx);
        JsonBody body = JsonBody.parse(reader, ctx.bodyAsBytes(), STEERING_FIELDS);
        if (body.isEmpty()) {
            throw ApiException.badRequest("body", "must set at least one of "
                    + String.join(", ", new java.util.TreeSet<>(STEERING_FIELDS)));
        }
        ConversationPatch.Builder patch = ConversationPatch.builder();
        if (body.has("personality")) {
            patch.personality(body.optionalText("personality"));
        }
        if (body.has("personalityId")) {
            patch.personalityId(personalityId(body));
        }
        if (body.has("brandVoiceId")) {
            patch.brandVoiceId(body.optionalText("brandVoiceId"));
        }
        if (body.has("targetAudienceId")) {
            patch.targetAudienceId(body.optionalText("targetAudienceId"));
        }
        if (body.has("modelName")) {
            patch.modelName(body.optionalText("modelName"));
        }
        ConversationPatch built = patch.build();
        Conversation c = conversation(conversations, ctx);
        RepositoryApi.respond(ctx, 200, conversation(c.update(built)));
    }

    private void send(Context ctx) {
        Conversations conversations = conversations(ctx);
        Prompt prompt = prompt(JsonBody.parse(reader, ctx.bodyAsBytes(), MESSAGE_FIELDS));
        Conversation c = conversation(conversations, ctx);
        RepositoryApi.respond(ctx, 200, message(c.send(prompt)));
    }

    private void messages(Context ctx) {
        Conversations conversations = conversations(ctx);
        PageRequest page = RepositoryApi.page(ctx);
        Page<Message> messages = conversation(conversations, ctx).messages(page);
        RepositoryApi.respond(ctx, 200, Json.object("page", Json.page(messages),
                "data", messages.items().stream().map(WorkspaceApi::message).toList()));
    }

    private void stream(Context ctx) throws InterruptedException {
        Caller caller = caller(ctx);
        Prompt prompt = prompt(JsonBody.parse(reader, ctx.bodyAsBytes(), MESSAGE_FIELDS));
        Conversation c = conversation(engine.as(caller), ctx);
        MessageStream.serve(ctx, caller.userId(), c, prompt, WorkspaceApi::message, streams);
    }

    private void cancel(Context ctx) throws InterruptedException {
        Conversations conversations = conversations(ctx);
        Conversation c = conversation(conversations, ctx);
        c.cancelStream();
        Optional<MessageStream> local = streams.of(c.id());
        if (local.isPresent()) {
            local.get().awaitEnd(CANCEL_WAIT);
        }
        RepositoryApi.respond(ctx, 200, Json.object("conversationId", c.id()));
    }

    /** The prompt of a message body: every field checked, each refusal naming it. */
    private static Prompt prompt(JsonBody body) {
        String id = body.requiredText("id");
        String text = body.requiredText("text");
        Prompt.Builder b = Prompt.text(text).id(id);
        String createdAt = body.optionalText("createdAt");
        if (createdAt != null) {
            b.createdAt(instant("createdAt", createdAt));
        }
        Long contextSize = body.optionalLong("contextSize", 1, Limits.MAX_CONTEXT_SIZE);
        if (contextSize != null) {
            b.contextSize(contextSize.intValue());
        }
        List<JsonBody> snippets = body.optionalObjects("additionalContext", CONTEXT_FIELDS,
                Limits.MAX_CONTEXT_SNIPPETS);
        List<String> contents = new ArrayList<>();
        for (JsonBody snippet : snippets) {
            String snippetId = snippet.optionalText("id");
            if (snippetId != null) {
                checkLabel(snippet.name("id"), snippetId, Limits.MAX_ID_LENGTH);
            }
            String category = snippet.optionalText("category_name");
            if (category != null) {
                checkLabel(snippet.name("category_name"), category, Limits.MAX_TAG_LENGTH);
            }
            String content = snippet.requiredText("content");
            // The engine's own check of a text, so that a refusal can name the snippet.
            RepositoryApi.renamed(Map.of("text", snippet.name("content")), () -> Prompt.text(content).build());
            contents.add(content);
        }
        b.additionalContext(contents);
        return b.build();
    }

    /** The {@code personalityId} field: a number in this API, kept by the engine as its decimal string. */
    private static @Nullable String personalityId(JsonBody body) {
        Long id = body.optionalLong("personalityId", 0, Long.MAX_VALUE);
        return id == null ? null : Long.toString(id);
    }

    /** A stored personality id as this API gives it: the number it took, or the text another API stored. */
    private static @Nullable Object personalityId(@Nullable String stored) {
        if (stored != null && stored.matches("0|[1-9][0-9]{0,18}")) {
            try {
                return Long.valueOf(stored);
            } catch (NumberFormatException tooLarge) {
                return stored;
            }
        }
        return stored;
    }

    private static Instant instant(String field, String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(field, "must be an ISO-8601 date-time with an offset, like "
                    + "2024-05-01T12:00:00Z");
        }
    }

    /** A client label the engine never sees: not blank, not too long, no control or invisible characters. */
    private static void checkLabel(String field, String value, int maxLength) {
        if (value.isBlank()) {
            throw ApiException.badRequest(field, "must not be blank");
        }
        if (value.length() > maxLength) {
            throw ApiException.badRequest(field, "must be at most " + maxLength + " characters");
        }
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || type == Character.FORMAT || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                throw ApiException.badRequest(field, "must not contain control or invisible characters");
            }
            i += Character.charCount(cp);
        }
    }

    private Map<String, @Nullable Object> conversation(ConversationInfo info) {
        ServerConfig.Workspace ws = workspaces.get(info.workspaceId());
        String personalityId = info.steering().personalityId();
        return Json.object(
                "id", info.id(),
                "workspaceId", info.workspaceId(),
                "legacyCustomerId", ws == null ? null : ws.legacyCustomerId(),
                "personality", info.steering().personality(),
                "personalityId", personalityId(personalityId),
                "brandVoiceId", info.steering().brandVoiceId(),
                "targetAudienceId", info.steering().targetAudienceId(),
                "modelName", info.modelName(),
                "tokensIn", info.tokensIn(),
                "tokensOut", info.tokensOut(),
                "createdAt", info.createdAt().toString(),
                "updatedAt", info.updatedAt().toString());
    }

    /** A stored message. */
    static Map<String, @Nullable Object> message(Message m) {
        return message(m.id(), m.conversationId(), m.role(), m.text(), m.status().name(), m.model(), m.createdAt(),
                m.usage());
    }

    /**
     * The stored assistant message of a reply, with the turn's credits: {@code creditsUsed} and
     * {@code creditsRemaining} (the tightest account's balance after the charge) as exact decimal strings, both null
     * when no account was charged.
     */
    static Map<String, @Nullable Object> message(Reply r) {
        Map<String, @Nullable Object> m = message(r.messageId(), r.conversationId(), Role.ASSISTANT, r.text(),
                r.status().name(), r.model(), r.createdAt(), r.usage());
        boolean metered = r.credits().metered();
        m.put("creditsUsed", metered ? Json.credits(r.credits().used()).toPlainString() : null);
        m.put("creditsRemaining", metered ? Json.credits(r.credits().remaining()).toPlainString() : null);
        return m;
    }

    private static Map<String, @Nullable Object> message(String id, String conversationId, Role role, String text,
                                                         String status, @Nullable String model, Instant createdAt,
                                                         @Nullable Usage usage) {
        return Json.object(
                "id", id,
                "conversationId", conversationId,
                "role", role.name().toLowerCase(Locale.ROOT),
                "text", text,
                "status", status,
                "modelName", model,
                "createdAt", createdAt.toString(),
                "tokensIn", usage == null ? null : usage.tokensIn(),
                "tokensOut", usage == null ? null : usage.tokensOut());
    }

    /** The camel-case code of an engine error code: {@code CONVERSATION_LOCKED} is {@code conversationLocked}. */
    static String code(ErrorCode code) {
        String[] words = code.name().toLowerCase(Locale.ROOT).split("_");
        StringBuilder sb = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            sb.append(Character.toUpperCase(words[i].charAt(0))).append(words[i], 1, words[i].length());
        }
        return sb.toString();
    }

    /** Answers with this API's error shape; without an engine code, the code follows from the status. */
    static void error(Context ctx, int status, @Nullable ErrorCode code, String message) {
        String name = code != null ? code(code) : switch (status) {
            case 400 -> code(ErrorCode.INVALID_REQUEST);
            case 401 -> "unauthorized";
            case 403 -> code(ErrorCode.FORBIDDEN);
            case 404 -> code(ErrorCode.NOT_FOUND);
            case 405 -> "methodNotAllowed";
            case 413 -> "payloadTooLarge";
            case 429 -> code(ErrorCode.RATE_LIMITED);
            case 503 -> "unavailable";
            default -> status >= 500 ? "internalError" : "badRequest";
        };
        RepositoryApi.respond(ctx, status, Json.object("code", name, "message", message));
    }
}
