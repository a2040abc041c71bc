package dev.parley.samples.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Conversations;
import dev.parley.api.NewConversation;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.samples.server.config.ConfigLoader;
import dev.parley.samples.server.config.ServerConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assistant-scoped conversation API: {@code POST /api/conversation/{id}?api_key=...&board_id=...&chat_id=...}
 * with a JSON body of
 *
 * <ul>
 *   <li>{@code prompt} (required): the user's message;</li>
 *   <li>{@code model}: the model of this turn; absent means the conversation's, then the engine's default;</li>
 *   <li>{@code additional_context}: a string the model sees for this turn only, never stored (blank means none);</li>
 *   <li>{@code save_history} (a boolean, or the string {@code "true"} or {@code "false"} as form-minded clients
 *       send it; default true): false answers and charges the turn but keeps it out of the history;</li>
 *   <li>{@code plaintext} and {@code streaming}: the strings {@code "true"} and {@code "active"} turn them on, any other
 *       string turns them off (a JSON boolean counts as its value); plaintext removes markdown from the reply,
 *       streaming answers with Server-Sent Events;</li>
 *   <li>{@code user}, {@code source}: tracking tags stored on the turn's messages;</li>
 *   <li>{@code board_id}, {@code chat_id}: may be given here instead of in the query (not differently).</li>
 * </ul>
 * The answer is {@code {text, credits_used, credits_remaining}}, the credits exact decimals
 * ({@code credits_remaining} the tightest account's balance after the charge, null when no account was charged); with
 * streaming on, {@code delta} events ({@code {text}}), then one {@code final} event with that same object, or one
 * {@code error} event ({@code {code, message}}).
 *
 * <p>The API key names the caller. The board must be in the caller's organization (else 404) and its workspace one
 * the caller has a role in (else 403); the chat must be one of the board's (else 404). The first prompt to an id on a
 * board's chat starts that conversation, owned by the caller, in the board's workspace ({@link AssistantConversations}
 * keeps which engine conversation it is); later prompts continue it, as the engine allows the caller (a member reaches
 * only their own conversations, a workspace admin every one of the workspace). Errors are
 * {@code {success: false, message}}, the message naming the field. Thread safe.
 */
final class AssistantApi {
    /** The path of this API's one endpoint. */
    static final String PATH = "/api/conversation/{id}";
    /** The body fields the endpoint takes. */
    static final Set<String> FIELDS = Set.of("prompt", "model", "additional_context", "save_history", "plaintext",
            "streaming", "user", "source", "board_id", "chat_id");
    /** The strings that turn {@code plaintext} and {@code streaming} on. */
    static final Set<String> ON = Set.of("true", "active");

    private static final Logger LOG = LoggerFactory.getLogger(AssistantApi.class);
    /** Engine field names and what this API calls them. */
    private static final Map<String, String> NAMES = Map.of("text", "prompt", "additionalContext",
            "additional_context", "model", "model", "user", "user", "source", "source", "id", "conversationId");

    private final ConversationEngine engine;
    private final Authenticator authenticator;
    private final AssistantConversations ids;
    private final Map<String, ServerConfig.Board> boards = new HashMap<>();
    private final Map<String, ServerConfig.Workspace> workspaces = new HashMap<>();
    private final ObjectMapper reader = ConfigLoader.strictMapper();
    /** The streams this server is sending, of every API. */
    private final ActiveStreams streams;

    AssistantApi(ConversationEngine engine, Authenticator authenticator, AssistantConversations ids,
                 ServerConfig config, ActiveStreams streams) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.streams = Objects.requireNonNull(streams, "streams");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.ids = Objects.requireNonNull(ids, "ids");
        for (ServerConfig.Board board : config.boards()) {
            boards.put(Objects.requireNonNull(board.id()), board);
        }
        for (ServerConfig.Workspace ws : config.workspaces()) {
            workspaces.put(Objects.requireNonNull(ws.id()), ws);
        }
    }

    /** Adds the API's route. */
    void register(RoutesConfig routes) {
        routes.post(PATH, this::prompt);
    }

    /** The conversation a prompt goes to, and whether this request started it. */
    private record Target(Conversation conversation, boolean started) {
    }

    private void prompt(Context ctx) throws InterruptedException {
        Caller caller = authenticator.apiKey(ctx.queryParam("api_key"));
        JsonBody body = JsonBody.parse(reader, ctx.bodyAsBytes(), FIELDS);
        String boardId = placement(ctx, body, "board_id");
        String chatId = placement(ctx, body, "chat_id");
        ServerConfig.Board board = board(caller, boardId);
        if (board.chats().stream().noneMatch(chat -> chatId.equals(chat.id()))) {
            throw new ApiException(404, "chat_id: the board has no such chat");
        }
        String clientId = ctx.pathParam("id");
        RepositoryApi.renamed(NAMES, () -> Prompt.text("-").id(clientId).build());
        Prompt prompt = prompt(body);
        boolean streaming = body.optionalSwitch("streaming", ON);

        Target target = target(engine.as(caller), Objects.requireNonNull(board.workspaceId()), boardId, chatId,
                clientId);
        try {
            if (streaming) {
                MessageStream.serve(ctx, caller.userId(), target.conversation(), prompt, AssistantApi::answer,
                        streams);
            } else {
                Reply reply = RepositoryApi.renamed(NAMES, () -> target.conversation().send(prompt));
                RepositoryApi.respond(ctx, 200, answer(reply));
            }
        } catch (ParleyException | ApiException e) {
            if (target.started()) {
                forget(target.conversation(), boardId, chatId, clientId);
            }
            throw e;
        }
    }

    /** The prompt of a body: every field checked, each refusal naming it as this API does. */
    private static Prompt prompt(JsonBody body) {
        String text = body.requiredText("prompt");
        String model = body.optionalText("model");
        String context = body.optionalText("additional_context");
        Boolean saveHistory = body.optionalBooleanOrText("save_history");
        boolean plaintext = body.optionalSwitch("plaintext", ON);
        String user = body.optionalText("user");
        String source = body.optionalText("source");
        return RepositoryApi.renamed(NAMES, () -> {
            Prompt.Builder b = Prompt.text(text).plaintext(plaintext)
                    .saveHistory(saveHistory == null || saveHistory);
            if (model != null) {
                b.model(model);
            }
            if (context != null && !context.isBlank()) {
                b.additionalContext(context);
            }
            if (user != null) {
                b.user(user);
            }
            if (source != null) {
                b.source(source);
            }
            return b.build();
        });
    }

    /**
     * A {@code board_id} or {@code chat_id}: from the query, or from the body; required, and the same in both when
     * both give it.
     */
    private static String placement(Context ctx, JsonBody body, String field) {
        String inQuery = ctx.queryParam(field);
        String inBody = body.optionalText(field);
        if (inQuery != null && inBody != null && !inQuery.equals(inBody)) {
            throw ApiException.badRequest(field, "the query and the body give different values");
        }
        String value = inQuery != null ? inQuery : inBody;
        if (value == null || value.isBlank()) {
            throw ApiException.badRequest(field, "is required (a query parameter)");
        }
        return value;
    }

    /** The board, when the caller may use it. */
    private ServerConfig.Board board(Caller caller, String boardId) {
        ServerConfig.Board board = boards.get(boardId);
        ServerConfig.Workspace ws = board == null ? null : workspaces.get(board.workspaceId());
        if (ws == null || !caller.organizationId().equals(ws.organizationId())) {
            throw new ApiException(404, "board_id: no such board");
        }
        if (!caller.canUseWorkspace(Objects.requireNonNull(ws.id()))) {
            throw new ApiException(403, "board_id: the api_key may not use this board");
        }
        return board;
    }

    /**
     * The conversation of the id on the board's chat: the one a first prompt started, else a new one. Of two first
     * prompts at once (here or on another instance), the one recorded first wins and the other's new conversation is
     * deleted.
     */
    private Target target(Conversations conversations, String workspaceId, String boardId, String chatId,
                          String clientId) {
        Optional<String> known = ids.find(boardId, chatId, clientId);
        if (known.isPresent()) {
            return new Target(conversations.get(known.get()), false);
        }
        Conversation created = conversations.create(NewConversation.inWorkspace(workspaceId).build());
        String recorded = ids.record(boardId, chatId, clientId, created.id());
        if (recorded.equals(created.id())) {
            return new Target(created, true);
        }
        delete(created);
        return new Target(conversations.get(recorded), false);
    }

    /**
     * Undoes the start of a conversation whose first prompt was refused, so that the refusal leaves no trace; keeps
     * it when a concurrent first prompt to the same id has stored a turn in it meanwhile (checked before the id is
     * forgotten and again after, putting the id back then).
     */
    private void forget(Conversation conversation, String boardId, String chatId, String clientId) {
        try {
            if (hasMessages(conversation)) {
                return;
            }
            ids.forget(boardId, chatId, clientId, conversation.id());
            if (hasMessages(conversation)) {
                ids.record(boardId, chatId, clientId, conversation.id());
                return;
            }
        } catch (ParleyException e) {
            LOG.warn("could not remove the id of conversation {}: {}", conversation.id(), e.toString());
            return;
        }
        delete(conversation);
    }

    private static boolean hasMessages(Conversation conversation) {
        return conversation.messages(dev.parley.api.PageRequest.of(1, 1)).totalElements() > 0;
    }

    private static void delete(Conversation conversation) {
        try {
            conversation.delete();
        } catch (ParleyException e) {
            LOG.warn("could not delete the unused conversation {}: {}", conversation.id(), e.toString());
        }
    }

    /** What this API answers of a reply: its text and credits. */
    static Map<String, @Nullable Object> answer(Reply reply) {
        return Json.object(
                "text", reply.text(),
                "credits_used", Json.credits(reply.credits().used()),
                "credits_remaining", reply.credits().metered() ? Json.credits(reply.credits().remaining()) : null);
    }
}
