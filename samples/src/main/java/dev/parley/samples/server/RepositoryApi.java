package dev.parley.samples.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.policy.Violation;
import dev.parley.samples.server.config.ConfigLoader;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The repository-scoped conversation API: conversations tied to a repository, whose workspace and organization
 * they inherit.
 *
 * <ul>
 *   <li>{@code POST /conversation {repoId}} creates one: {@code {success, conversationId}}; an unknown repository is
 *       a 404, an orphan one (no workspace) a 400.</li>
 *   <li>{@code POST /conversation/{id}/prompt {prompt}} runs a turn: {@code {success, message}} with the reply, its
 *       model, the turn's tokens, the conversation's totals and the credits. An {@code Idempotency-Key} header makes
 *       the turn idempotent: a replay returns the stored reply without a model call.</li>
 *   <li>{@code GET /conversation/{id}/messages}, oldest first, and {@code GET /conversation} with optional
 *       {@code workspaceId} and {@code repoId} filters, newest first, both paged by {@code page} (from 1) and
 *       {@code size} (default 20, at most 100).</li>
 *   <li>{@code DELETE /conversation/{id}} soft-deletes; {@code GET /conversation/{id}/violations} lists the policy
 *       violations to organization and workspace admins.</li>
 * </ul>
 * Every call needs a bearer token. Organization admins reach every conversation of their organization, workspace
 * admins those of their workspaces, everyone else their own; creating and prompting needs a role in the workspace.
 * Errors are {@code {success: false, message}}. Thread safe.
 */
final class RepositoryApi {
    private static final Set<String> CREATE_FIELDS = Set.of("repoId");
    private static final Set<String> PROMPT_FIELDS = Set.of("prompt");
    /** The header that makes a prompt idempotent. */
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final ConversationEngine engine;
    private final Authenticator authenticator;
    private final ObjectMapper reader = ConfigLoader.strictMapper();

    RepositoryApi(ConversationEngine engine, Authenticator authenticator) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    }

    /** Adds the API's routes. */
    void register(RoutesConfig routes) {
        routes.post("/conversation", this::create);
        routes.get("/conversation", this::list);
        routes.post("/conversation/{id}/prompt", this::prompt);
        routes.get("/conversation/{id}/messages", this::messages);
        routes.get("/conversation/{id}/violations", this::violations);
        routes.delete("/conversation/{id}", this::delete);
    }

    private Conversations conversations(Context ctx) {
        Caller caller = authenticator.bearer(ctx.header("Authorization"));
        return engine.as(caller);
    }

    private void create(Context ctx) {
        Conversations conversations = conversations(ctx);
        JsonBody body = JsonBody.parse(reader, ctx.bodyAsBytes(), CREATE_FIELDS);
        String repoId = body.requiredText("repoId");
        Conversation c = renamed(Map.of("repositoryId", "repoId"),
                () -> conversations.create(NewConversation.inRepository(repoId).build()));
        respond(ctx, 200, Json.object("success", true, "conversationId", c.id()));
    }

    private void prompt(Context ctx) {
        Conversations conversations = conversations(ctx);
        JsonBody body = JsonBody.parse(reader, ctx.bodyAsBytes(), PROMPT_FIELDS);
        String text = body.requiredText("prompt");
        String key = ctx.header(IDEMPOTENCY_KEY);
        Prompt prompt = renamed(Map.of("text", "prompt", "id", IDEMPOTENCY_KEY), () -> {
            Prompt.Builder b = Prompt.text(text);
            if (key != null) {
                b.id(key);
            }
            return b.build();
        });
        Conversation c = conversations.get(ctx.pathParam("id"));
        Reply reply = renamed(Map.of("text", "prompt", "id", IDEMPOTENCY_KEY), () -> c.send(prompt));
        ConversationInfo info = c.info();
        respond(ctx, 200, Json.object(
                "success", true,
                "message", reply.replayed() ? "Prompt already processed; stored reply returned" : "Prompt processed",
                "conversationId", c.id(),
                "promptId", reply.promptId(),
                "messageId", reply.messageId(),
                "reply", reply.text(),
                "model", reply.model(),
                "tokensIn", reply.usage().tokensIn(),
                "tokensOut", reply.usage().tokensOut(),
                "totalTokensIn", info.tokensIn(),
                "totalTokensOut", info.tokensOut(),
                "creditsUsed", Json.credits(reply.credits().used()),
                "creditsRemaining", reply.credits().metered() ? Json.credits(reply.credits().remaining()) : null,
                "replayed", reply.replayed()));
    }

    private void messages(Context ctx) {
        Conversations conversations = conversations(ctx);
        PageRequest page = page(ctx);
        Conversation c = conversations.get(ctx.pathParam("id"));
        Page<Message> messages = c.messages(page);
        respond(ctx, 200, Json.object(
                "success", true,
                "conversationId", c.id(),
                "messages", messages.items().stream().map(RepositoryApi::message).toList(),
                "page", Json.page(messages)));
    }

    private void list(Context ctx) {
        Conversations conversations = conversations(ctx);
        PageRequest page = page(ctx);
        String workspaceId = ctx.queryParam("workspaceId");
        String repoId = ctx.queryParam("repoId");
        ConversationQuery query = renamed(Map.of("repositoryId", "repoId"),
                () -> new ConversationQuery(workspaceId, repoId, page));
        Page<ConversationInfo> list = conversations.list(query);
        respond(ctx, 200, Json.object(
                "success", true,
                "conversations", list.items().stream().map(RepositoryApi::conversation).toList(),
                "page", Json.page(list)));
    }

    private void delete(Context ctx) {
        Conversations conversations = conversations(ctx);
        Conversation c = conversations.get(ctx.pathParam("id"));
        c.delete();
        respond(ctx, 200, Json.object("success", true, "message", "Conversation deleted"));
    }

    private void violations(Context ctx) {
        Conversations conversations = conversations(ctx);
        PageRequest page = page(ctx);
        Conversation c = conversations.get(ctx.pathParam("id"));
        Page<Violation> violations = c.violations(page);
        respond(ctx, 200, Json.object(
                "success", true,
                "conversationId", c.id(),
                "violations", violations.items().stream().map(RepositoryApi::violation).toList(),
                "page", Json.page(violations)));
    }

    private static Map<String, @Nullable Object> conversation(ConversationInfo info) {
        return Json.object(
                "conversationId", info.id(),
                "repoId", info.repositoryId(),
                "workspaceId", info.workspaceId(),
                "organizationId", info.organizationId(),
                "ownerId", info.ownerId(),
                "model", info.modelName(),
                "tokensIn", info.tokensIn(),
                "tokensOut", info.tokensOut(),
                "createdAt", info.createdAt().toString(),
                "updatedAt", info.updatedAt().toString());
    }

    private static Map<String, @Nullable Object> message(Message m) {
        return Json.object(
                "id", m.id(),
                "role", m.role().name().toLowerCase(Locale.ROOT),
                "content", m.text(),
                "tokens", m.tokens(),
                "model", m.model(),
                "status", m.status().name(),
                "createdAt", m.createdAt().toString());
    }

    private static Map<String, @Nullable Object> violation(Violation v) {
        return Json.object(
                "id", v.id(),
                "messageId", v.messageId(),
                "policy", v.ruleId(),
                "category", v.category(),
                "action", v.action().name(),
                "phase", v.phase().name(),
                "at", v.at().toString(),
                "excerpt", v.excerpt());
    }

    /** The {@code page} and {@code size} query parameters: page from 1, size 1 to 100, default 20. */
    static PageRequest page(Context ctx) {
        int page = intParam(ctx, "page", 1);
        int size = intParam(ctx, "size", PageRequest.DEFAULT_SIZE);
        return PageRequest.of(page, size);
    }

    private static int intParam(Context ctx, String name, int otherwise) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return otherwise;
        }
        if (!value.matches("[0-9]{1,9}")) {
            throw ApiException.badRequest(name, "must be a whole number");
        }
        return Integer.parseInt(value);
    }

    /** Runs {@code call}, giving an invalid field the name this API uses for it. */
    static <T> T renamed(Map<String, String> names, Supplier<T> call) {
        try {
            return call.get();
        } catch (InvalidRequestException e) {
            String name = names.get(e.field());
            if (name == null) {
                throw e;
            }
            String message = Objects.requireNonNullElse(e.getMessage(), e.field());
            String problem = message.startsWith(e.field() + ": ")
                    ? message.substring(e.field().length() + 2) : message;
            throw ApiException.badRequest(name, problem);
        }
    }

    static void respond(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.bytes(body));
    }
}
