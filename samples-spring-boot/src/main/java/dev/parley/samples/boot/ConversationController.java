package dev.parley.samples.boot;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ErrorCode;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Map;

/**
 * Conversations over HTTP, on the starter's engine:
 *
 * <pre>
 * POST /conversations                 -&gt; 201 {"id": ...}
 * POST /conversations/{id}/messages   {"text": "...", "messageId": "..."}  -&gt; 200 the reply
 * GET  /conversations/{id}/messages   -&gt; 200 the history, oldest first
 * </pre>
 *
 * <p>The caller is the user named by the {@code X-User} header, a member of the sample's one workspace: a demo's
 * stand-in for what an application takes from its authentication (Spring Security's principal, say). A {@link ParleyException} becomes the status of its {@link ErrorCode} with the code and message.
 */
@RestController
@RequestMapping("/conversations")
public class ConversationController {
    /** The organization every caller of the sample belongs to. */
    static final String ORGANIZATION = "sample";
    /** The workspace every conversation of the sample is in. */
    static final String WORKSPACE = "support";

    private final ConversationEngine engine;

    /** Answers with {@code engine}, the starter's. */
    public ConversationController(ConversationEngine engine) {
        this.engine = engine;
    }

    /**
     * The body of a message.
     *
     * @param text the question
     * @param messageId the client's id of it, so that a retry is answered from the store rather than asked again
     */
    public record MessageBody(@Nullable String text, @Nullable String messageId) {
    }

    /**
     * A reply, as the engine gave it.
     *
     * @param conversationId its conversation
     * @param messageId the id of the question it answers
     * @param text the model's answer
     * @param model the model that answered
     * @param replayed whether it was answered from the store (a retry of the same message id)
     * @param tokensIn the tokens the model read
     * @param tokensOut the tokens the model wrote
     */
    public record ReplyBody(String conversationId, String messageId, String text, String model, boolean replayed,
                            long tokensIn, long tokensOut) {
        static ReplyBody of(Reply reply) {
            return new ReplyBody(reply.conversationId(), reply.messageId(), reply.text(), reply.model(),
                    reply.replayed(), reply.usage().tokensIn(), reply.usage().tokensOut());
        }
    }

    /**
     * A message of the history.
     *
     * @param id the message's id
     * @param role who wrote it ({@code USER}, {@code ASSISTANT}, ...)
     * @param text what it says
     * @param status how its turn ended
     */
    public record MessageView(String id, String role, String text, String status) {
        static MessageView of(Message m) {
            return new MessageView(m.id(), m.role().name(), m.text(), m.status().name());
        }
    }

    private static Caller caller(String user) {
        return Caller.user(user, ORGANIZATION).member(WORKSPACE).build();
    }

    /** Starts a conversation of the caller. */
    @PostMapping
    public ResponseEntity<Map<String, String>> create(@RequestHeader("X-User") String user) {
        Conversation c = engine.as(caller(user)).create(NewConversation.inWorkspace(WORKSPACE).build());
        return ResponseEntity.status(HttpStatus.CREATED).body(Map.of("id", c.id()));
    }

    /** Sends the body's text as a turn and answers with the reply. */
    @PostMapping("/{id}/messages")
    public ReplyBody send(@RequestHeader("X-User") String user, @PathVariable("id") String id,
                          @RequestBody MessageBody body) {
        Conversation c = engine.as(caller(user)).get(id);
        Prompt.Builder prompt = Prompt.text(body.text() == null ? "" : body.text());
        if (body.messageId() != null) {
            prompt.id(body.messageId());
        }
        return ReplyBody.of(c.send(prompt.build()));
    }

    /** The conversation's messages, oldest first, up to 100. */
    @GetMapping("/{id}/messages")
    public List<MessageView> history(@RequestHeader("X-User") String user, @PathVariable("id") String id) {
        return engine.as(caller(user)).get(id).messages(PageRequest.of(1, 100)).items().stream()
                .map(MessageView::of).toList();
    }

    /** The engine's refusal or failure, as the status of its code. */
    @ExceptionHandler(ParleyException.class)
    public ResponseEntity<Map<String, String>> refused(ParleyException e) {
        HttpStatus status = switch (e.code()) {
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case FORBIDDEN -> HttpStatus.FORBIDDEN;
            case INVALID_REQUEST -> HttpStatus.BAD_REQUEST;
            case CONVERSATION_LOCKED -> HttpStatus.CONFLICT;
            case POLICY_BLOCKED -> HttpStatus.UNPROCESSABLE_CONTENT;
            case BUDGET_EXCEEDED -> HttpStatus.PAYMENT_REQUIRED;
            case RATE_LIMITED -> HttpStatus.TOO_MANY_REQUESTS;
            case MODEL_UNAVAILABLE -> HttpStatus.BAD_GATEWAY;
            default -> HttpStatus.SERVICE_UNAVAILABLE;
        };
        String message = e.getMessage() == null ? e.code().name() : e.getMessage();
        return ResponseEntity.status(status).body(Map.of("code", e.code().name(), "message", message));
    }
}
