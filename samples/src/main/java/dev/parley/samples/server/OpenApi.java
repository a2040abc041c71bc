package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The OpenAPI 3.1 description of the three APIs the server speaks and of the browser page's routes, served at
 * {@code GET /openapi.json}: every path,
 * its parameters, request and response schemas (request bodies refuse unknown properties, as the server does), the
 * two error shapes and the two security schemes (a bearer token for the repository and workspace styles, an
 * {@code api_key} query parameter for the assistant style). Built once with Jackson; immutable and thread safe.
 */
final class OpenApi {
    /** The path the description is served at. */
    static final String PATH = "/openapi.json";

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String WS = "/api/v1/workspaces/{ws}/conversations";
    private static final List<Integer> ENGINE_ERRORS = List.of(400, 401, 402, 403, 404, 409, 413, 422, 429, 502, 503);

    private OpenApi() {
    }

    /** The document. */
    static ObjectNode document() {
        ObjectNode doc = F.objectNode();
        doc.put("openapi", "3.1.0");
        doc.putObject("info").put("title", "Parley sample server").put("version", "1")
                .put("description", "Three conversation APIs over one Parley engine: repository-scoped, "
                        + "workspace-scoped and assistant-scoped. Every engine error code maps to one status: "
                        + "NOT_FOUND 404, FORBIDDEN 403, INVALID_REQUEST 400, CONVERSATION_LOCKED 409, POLICY_BLOCKED "
                        + "422, BUDGET_EXCEEDED 402, RATE_LIMITED 429 (with Retry-After), MODEL_UNAVAILABLE 502, "
                        + "STORE_FAILURE 503; missing or unknown credentials are 401.");
        ObjectNode components = doc.putObject("components");
        ObjectNode schemes = components.putObject("securitySchemes");
        schemes.putObject("bearerToken").put("type", "http").put("scheme", "bearer");
        schemes.putObject("apiKey").put("type", "apiKey").put("in", "query").put("name", "api_key");
        components.set("schemas", schemas());

        ObjectNode paths = doc.putObject("paths");
        repository(paths);
        workspace(paths);
        assistant(paths);
        web(paths);
        ObjectNode health = op("Whether the store answers", null, false);
        ObjectNode healthResponses = health.putObject("responses");
        healthResponses.set("200", json("{status: UP}", ref("Health")));
        healthResponses.set("503", json("{status: DOWN}", ref("Health")));
        path(paths, "/health").set("get", health);
        ObjectNode openapi = op("This description", null, false);
        openapi.putObject("responses").set("200", json("The OpenAPI document", F.objectNode().put("type", "object")));
        path(paths, PATH).set("get", openapi);
        return doc;
    }

    private static void repository(ObjectNode paths) {
        String tag = "repository";
        ObjectNode create = op("Creates a conversation on a repository", tag, true);
        body(create, object(List.of("repoId"), "repoId", string("handbook")));
        ok(create, "200", ref("Created"), "RepositoryError");
        ObjectNode list = op("Lists the conversations the caller may see, newest first", tag, true);
        params(list, query("workspaceId", string(null)), query("repoId", string(null)), page(), size());
        ok(list, "200", ref("RepositoryConversationPage"), "RepositoryError");
        path(paths, "/conversation").set("post", create);
        path(paths, "/conversation").set("get", list);

        ObjectNode prompt = op("Runs a turn", tag, true);
        params(prompt, pathParam("id"), F.objectNode().put("name", RepositoryApi.IDEMPOTENCY_KEY).put("in", "header")
                .put("description", "makes the turn idempotent: a retry returns the stored reply")
                .set("schema", string(null)));
        body(prompt, object(List.of("prompt"), "prompt", string("What is my favourite number?")));
        ok(prompt, "200", ref("PromptReply"), "RepositoryError");
        path(paths, "/conversation/{id}/prompt").set("post", prompt);

        ObjectNode messages = op("The conversation's messages, oldest first", tag, true);
        params(messages, pathParam("id"), page(), size());
        ok(messages, "200", ref("RepositoryMessagePage"), "RepositoryError");
        path(paths, "/conversation/{id}/messages").set("get", messages);

        ObjectNode violations = op("The conversation's policy violations, to organization and workspace admins",
                tag, true);
        params(violations, pathParam("id"), page(), size());
        ok(violations, "200", ref("ViolationPage"), "RepositoryError");
        path(paths, "/conversation/{id}/violations").set("get", violations);

        ObjectNode delete = op("Soft-deletes the conversation", tag, true);
        params(delete, pathParam("id"));
        ok(delete, "200", ref("Deleted"), "RepositoryError");
        path(paths, "/conversation/{id}").set("delete", delete);
    }

    private static void workspace(ObjectNode paths) {
        String tag = "workspace";
        ObjectNode create = op("Creates a conversation with a server-generated id", tag, true);
        params(create, pathParam("ws"));
        ObjectNode steering = steering();
        create.putObject("requestBody").put("required", false).putObject("content")
                .putObject("application/json").set("schema", steering);
        ok(create, "201", ref("WorkspaceConversation"), "WorkspaceError");
        ObjectNode list = op("Lists the workspace's conversations, newest first", tag, true);
        params(list, pathParam("ws"), page(), size());
        ok(list, "200", envelope("WorkspaceConversation"), "WorkspaceError");
        path(paths, WS).set("post", create);
        path(paths, WS).set("get", list);

        ObjectNode show = op("Reads a conversation", tag, true);
        params(show, pathParam("ws"), pathParam("id"));
        ok(show, "200", ref("WorkspaceConversation"), "WorkspaceError");
        ObjectNode patch = op("Changes steering: an omitted field keeps its value, null clears it; at least one field",
                tag, true);
        params(patch, pathParam("ws"), pathParam("id"));
        body(patch, steering().put("minProperties", 1));
        ok(patch, "200", ref("WorkspaceConversation"), "WorkspaceError");
        path(paths, WS + "/{id}").set("get", show);
        path(paths, WS + "/{id}").set("patch", patch);

        ObjectNode send = op("Sends a message; the same id again returns the stored reply without a model call",
                tag, true);
        params(send, pathParam("ws"), pathParam("id"));
        body(send, newMessage());
        ok(send, "200", ref("WorkspaceReply"), "WorkspaceError");
        ObjectNode messages = op("The conversation's messages, oldest first", tag, true);
        params(messages, pathParam("ws"), pathParam("id"), page(), size());
        ok(messages, "200", envelope("WorkspaceMessage"), "WorkspaceError");
        path(paths, WS + "/{id}/messages").set("post", send);
        path(paths, WS + "/{id}/messages").set("get", messages);

        ObjectNode stream = op("Streams a message's reply as Server-Sent Events: delta events ({text}), then one "
                + "final event (the stored assistant message with the turn's credits, a WorkspaceReply) or one "
                + "error event ({code, message}); 409 "
                + "conversationLocked while another stream runs; 429 when the caller already has as many streams "
                + "open as the server allows one caller, 503 when the server sends as many as it can (both with "
                + "Retry-After)", tag, true);
        params(stream, pathParam("ws"), pathParam("id"));
        body(stream, newMessage());
        ok(stream, "200", null, "WorkspaceError");
        ObjectNode cancel = op("Cancels the active stream, its partial reply kept as CANCELLED; a no-op when none",
                tag, true);
        params(cancel, pathParam("ws"), pathParam("id"));
        ok(cancel, "200", object(List.of("conversationId"), "conversationId", string(null)), "WorkspaceError");
        path(paths, WS + "/{id}/message-streams").set("post", stream);
        path(paths, WS + "/{id}/message-streams").set("delete", cancel);
    }

    private static void assistant(ObjectNode paths) {
        ObjectNode prompt = op("Sends a prompt; the first prompt to an id on a board's chat starts the conversation. "
                + "With streaming on, the answer is Server-Sent Events: delta events ({text}), then one final event "
                + "(the answer object) or one error event ({code, message}); with plaintext on, the deltas are plain "
                + "text too. A stream beyond the caller's or the server's stream limit gets 429 or 503 with "
                + "Retry-After", "assistant", false);
        prompt.putArray("security").addObject().putArray("apiKey");
        params(prompt, pathParam("id"),
                query("board_id", string(null)).put("description", "required here or in the body"),
                query("chat_id", string(null)).put("description", "required here or in the body"));
        ObjectNode on = string(null).put("description", "\"true\" or \"active\" turn it on; any other value off");
        body(prompt, object(List.of("prompt"),
                "prompt", string("What is my favourite number?"),
                "model", nullable(string(null)),
                "additional_context", nullable(string(null)).put("description", "for this turn only, never stored"),
                "save_history", nullable(F.objectNode().put("type", "boolean")).put("default", true),
                "plaintext", on.deepCopy(),
                "streaming", on.deepCopy(),
                "user", nullable(string(null)),
                "source", nullable(string(null)),
                "board_id", nullable(string(null)),
                "chat_id", nullable(string(null))));
        ObjectNode responses = ok(prompt, "200", ref("AssistantAnswer"), "RepositoryError");
        ((ObjectNode) responses.get("200").get("content")).putObject("text/event-stream")
                .putObject("schema").put("type", "string");
        path(paths, AssistantApi.PATH).set("post", prompt);
    }

    private static void web(ObjectNode paths) {
        String tag = "web";
        ObjectNode page = op("The browser chat page (HTML), sent with a strict Content-Security-Policy", tag, false);
        page.putObject("responses").putObject("200").put("description", "The page").putObject("content")
                .putObject("text/html").putObject("schema").put("type", "string");
        path(paths, "/").set("get", page);
        ObjectNode file = op("The page's script or style sheet (app.js, markdown.js, app.css); 404 for any other",
                tag, false);
        params(file, pathParam("file"));
        ObjectNode fileResponses = file.putObject("responses");
        ObjectNode content = fileResponses.putObject("200").put("description", "The file").putObject("content");
        content.putObject("text/javascript").putObject("schema").put("type", "string");
        content.putObject("text/css").putObject("schema").put("type", "string");
        fileResponses.set("404", json("No such file", ref("RepositoryError")));
        path(paths, WebUi.FILE_PATH).set("get", file);

        ObjectNode config = op("What the page needs before sign-in: the model names and, only when the server runs "
                + "on the built-in demo configuration, the demo users with their bearer tokens", tag, false);
        config.putObject("responses").set("200", json("The page's configuration", ref("UiConfig")));
        path(paths, WebUi.CONFIG_PATH).set("get", config);
        ObjectNode session = op("The bearer token's user and the workspaces it has a claim on", tag, true);
        ObjectNode sessionResponses = session.putObject("responses");
        sessionResponses.set("200", json("The signed-in user", ref("UiSession")));
        sessionResponses.set("401", json("Missing or unknown token", ref("RepositoryError")));
        path(paths, WebUi.SESSION_PATH).set("get", session);
    }

    private static ObjectNode schemas() {
        ObjectNode s = F.objectNode();
        s.set("RepositoryError", object(List.of("success", "message"),
                "success", F.objectNode().put("const", false), "message", string(null)));
        s.set("WorkspaceError", object(List.of("code", "message"),
                "code", string(null).put("description", "camel case: invalidRequest, conversationLocked, unauthorized, "
                        + "..."), "message", string(null)));
        s.set("Health", object(List.of("status"), "status", F.objectNode().set("enum", F.arrayNode().add("UP")
                .add("DOWN"))));
        s.set("Page", object(List.of("size", "totalElements", "totalPages", "currentPage"),
                "size", integer(), "totalElements", integer(), "totalPages", integer(), "currentPage", integer()));
        s.set("Created", object(List.of("success", "conversationId"), "success", bool(),
                "conversationId", string(null)));
        s.set("Deleted", object(List.of("success", "message"), "success", bool(), "message", string(null)));
        s.set("PromptReply", object(List.of("success", "message", "reply"),
                "success", bool(), "message", string(null), "conversationId", string(null),
                "promptId", string(null), "messageId", string(null), "reply", string(null), "model", string(null),
                "tokensIn", integer(), "tokensOut", integer(), "totalTokensIn", integer(),
                "totalTokensOut", integer(), "creditsUsed", number(), "creditsRemaining", nullable(number()),
                "replayed", bool()));
        s.set("RepositoryConversation", object(List.of("conversationId"),
                "conversationId", string(null), "repoId", nullable(string(null)), "workspaceId", string(null),
                "organizationId", string(null), "ownerId", string(null), "model", nullable(string(null)),
                "tokensIn", integer(), "tokensOut", integer(), "createdAt", time(), "updatedAt", time()));
        s.set("RepositoryMessage", object(List.of("id", "role", "content"),
                "id", string(null), "role", F.objectNode().set("enum", F.arrayNode().add("user").add("assistant")),
                "content", string(null), "tokens", integer(), "model", nullable(string(null)),
                "status", string(null), "createdAt", time()));
        s.set("Violation", object(List.of("id"),
                "id", string(null), "messageId", nullable(string(null)), "policy", string(null),
                "category", string(null), "action", string(null), "phase", string(null), "at", time(),
                "excerpt", nullable(string(null))));
        s.set("RepositoryConversationPage", object(List.of("success", "conversations", "page"),
                "success", bool(), "conversations", array(ref("RepositoryConversation")), "page", ref("Page")));
        s.set("RepositoryMessagePage", object(List.of("success", "messages", "page"),
                "success", bool(), "conversationId", string(null), "messages", array(ref("RepositoryMessage")),
                "page", ref("Page")));
        s.set("ViolationPage", object(List.of("success", "violations", "page"),
                "success", bool(), "conversationId", string(null), "violations", array(ref("Violation")),
                "page", ref("Page")));
        s.set("WorkspaceConversation", object(List.of("id", "workspaceId"),
                "id", string(null), "workspaceId", string(null), "legacyCustomerId", nullable(integer()),
                "personality", nullable(string(null)), "personalityId", nullable(integer()),
                "brandVoiceId", nullable(string(null)), "targetAudienceId", nullable(string(null)),
                "modelName", nullable(string(null)), "tokensIn", integer(), "tokensOut", integer(),
                "createdAt", time(), "updatedAt", time()));
        s.set("WorkspaceMessage", object(List.of("id", "conversationId", "role", "text", "status"),
                "id", string(null), "conversationId", string(null),
                "role", F.objectNode().set("enum", F.arrayNode().add("user").add("assistant")),
                "text", string(null),
                "status", F.objectNode().set("enum", F.arrayNode().add("COMPLETE").add("CANCELLED").add("FAILED")),
                "modelName", nullable(string(null)), "createdAt", time(), "tokensIn", nullable(integer()),
                "tokensOut", nullable(integer())));
        ObjectNode reply = s.get("WorkspaceMessage").deepCopy();
        ((ObjectNode) reply.get("properties")).set("creditsUsed", credits("the turn's credits"));
        ((ObjectNode) reply.get("properties")).set("creditsRemaining",
                credits("the tightest account's balance after the charge"));
        s.set("WorkspaceReply", reply);
        s.set("UiConfig", object(List.of("demo", "models", "defaultModel", "demoUsers"),
                "demo", bool().put("description", "true only on the built-in demo configuration"),
                "models", array(string(null)), "defaultModel", nullable(string(null)),
                "demoUsers", array(object(List.of("id", "role", "token"), "id", string(null), "role", string(null),
                        "token", string(null))).put("description", "empty unless demo is true")));
        s.set("UiSession", object(List.of("userId", "organizationId", "organizationAdmin", "workspaces"),
                "userId", string(null), "organizationId", string(null), "organizationAdmin", bool(),
                "workspaces", array(object(List.of("id", "name", "role"), "id", string(null), "name", string(null),
                        "role", F.objectNode().set("enum", F.arrayNode().add("admin").add("member")
                                .add("organizationAdmin"))))));
        s.set("AssistantAnswer", object(List.of("text", "credits_used", "credits_remaining"),
                "text", string(null), "credits_used", number(),
                "credits_remaining", nullable(number()).put("description", "null when no account was charged")));
        return s;
    }

    private static ObjectNode steering() {
        return object(List.of(),
                "personality", nullable(string(null)),
                "personalityId", nullable(integer()).put("description", "kept for reference only"),
                "brandVoiceId", nullable(string(null)),
                "targetAudienceId", nullable(string(null)),
                "modelName", nullable(string(null)).put("description", "null means the engine's default"));
    }

    private static ObjectNode newMessage() {
        ObjectNode snippet = object(List.of("content"), "id", nullable(string(null)),
                "content", string(null), "category_name", nullable(string(null)));
        return object(List.of("id", "text"),
                "id", string("msg-1").put("description", "the client's message id: the turn's idempotency key"),
                "text", string("What is my favourite number?"),
                "createdAt", nullable(time()),
                "additionalContext", nullable(array(snippet)),
                "contextSize", nullable(integer()).put("minimum", 1).put("description", "history token budget, "
                        + "16000 by default"));
    }

    // ---- small builders

    private static ObjectNode path(ObjectNode paths, String path) {
        return paths.has(path) ? (ObjectNode) paths.get(path) : paths.putObject(path);
    }

    private static ObjectNode op(String summary, @Nullable String tag, boolean bearer) {
        ObjectNode op = F.objectNode().put("summary", summary);
        if (tag != null) {
            op.putArray("tags").add(tag);
        }
        if (bearer) {
            op.putArray("security").addObject().putArray("bearerToken");
        }
        return op;
    }

    private static void params(ObjectNode op, ObjectNode... parameters) {
        ArrayNode list = op.putArray("parameters");
        for (ObjectNode p : parameters) {
            list.add(p);
        }
    }

    private static ObjectNode pathParam(String name) {
        return F.objectNode().put("name", name).put("in", "path").put("required", true).set("schema", string(null));
    }

    private static ObjectNode query(String name, ObjectNode schema) {
        return F.objectNode().put("name", name).put("in", "query").set("schema", schema);
    }

    private static ObjectNode page() {
        return query("page", integer().put("minimum", 1).put("default", 1));
    }

    private static ObjectNode size() {
        return query("size", integer().put("minimum", 1).put("maximum", 100).put("default", 20));
    }

    private static void body(ObjectNode op, ObjectNode schema) {
        op.putObject("requestBody").put("required", true).putObject("content").putObject("application/json")
                .set("schema", schema);
    }

    /** The success response and one response per error status, in {@code errorSchema}'s shape. */
    private static ObjectNode ok(ObjectNode op, String status, @Nullable JsonNode schema, String errorSchema) {
        ObjectNode responses = op.putObject("responses");
        if (schema == null) {
            responses.putObject(status).put("description", "Server-Sent Events").putObject("content")
                    .putObject("text/event-stream").putObject("schema").put("type", "string");
        } else {
            responses.set(status, json("Success", schema));
        }
        for (int code : ENGINE_ERRORS) {
            responses.set(Integer.toString(code), json("Error", ref(errorSchema)));
        }
        return responses;
    }

    private static ObjectNode json(String description, JsonNode schema) {
        ObjectNode r = F.objectNode().put("description", description);
        r.putObject("content").putObject("application/json").set("schema", schema);
        return r;
    }

    /** An object of alternating property names and schemas that refuses other properties. */
    private static ObjectNode object(List<String> required, Object... namesAndSchemas) {
        ObjectNode o = F.objectNode().put("type", "object");
        ObjectNode props = o.putObject("properties");
        for (int i = 0; i < namesAndSchemas.length; i += 2) {
            props.set((String) namesAndSchemas[i], (JsonNode) namesAndSchemas[i + 1]);
        }
        ArrayNode req = o.putArray("required");
        required.forEach(req::add);
        o.put("additionalProperties", false);
        return o;
    }

    /** The workspace style's list envelope: {@code {page, data}}. */
    private static ObjectNode envelope(String item) {
        return object(List.of("page", "data"), "page", ref("Page"), "data", array(ref(item)));
    }

    private static ObjectNode ref(String schema) {
        return F.objectNode().put("$ref", "#/components/schemas/" + schema);
    }

    private static ObjectNode string(@Nullable String example) {
        ObjectNode s = F.objectNode().put("type", "string");
        if (example != null) {
            s.putArray("examples").add(example);
        }
        return s;
    }

    private static ObjectNode nullable(ObjectNode schema) {
        JsonNode type = schema.get("type");
        if (type != null && type.isTextual()) {
            schema.set("type", F.arrayNode().add(type.textValue()).add("null"));
        }
        return schema;
    }

    private static ObjectNode integer() {
        return F.objectNode().put("type", "integer");
    }

    private static ObjectNode number() {
        return F.objectNode().put("type", "number").put("description", "an exact decimal, every digit written");
    }

    /** An amount of credits as an exact decimal string, null when no account was charged. */
    private static ObjectNode credits(String what) {
        return nullable(string("0.0123")).put("pattern", "^[0-9]+(\\.[0-9]+)?$")
                .put("description", what + ": an exact decimal string, null when no account was charged");
    }

    private static ObjectNode bool() {
        return F.objectNode().put("type", "boolean");
    }

    private static ObjectNode time() {
        return F.objectNode().put("type", "string").put("format", "date-time");
    }

    private static ObjectNode array(JsonNode items) {
        return F.objectNode().put("type", "array").set("items", items);
    }
}
