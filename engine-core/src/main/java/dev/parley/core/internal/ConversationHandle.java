package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Credits;
import dev.parley.api.ErrorCode;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Steering;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.AuditEvent;
import dev.parley.api.spi.Turn;
import dev.parley.api.spi.TurnResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** A caller's handle on one conversation; holds only the id and reads fresh state on every call. Thread safe. */
final class ConversationHandle implements Conversation {
    private static final Logger LOG = LoggerFactory.getLogger(ConversationHandle.class);
    /** Errors that refuse a request before any turn starts: not worth a TURN_FAILED event. */
    private static final Set<ErrorCode> REFUSALS =
            EnumSet.of(ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.INVALID_REQUEST, ErrorCode.CONVERSATION_LOCKED);

    private final String id;
    private final Caller caller;
    private final DefaultConversationEngine engine;
    private final CoreServices services;

    ConversationHandle(String id, Caller caller, DefaultConversationEngine engine) {
        this.id = id;
        this.caller = caller;
        this.engine = engine;
        this.services = engine.services();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public ConversationInfo info() {
        return load();
    }

    @Override
    public Reply send(Prompt prompt) {
        Objects.requireNonNull(prompt, "prompt");
        ConversationInfo info = load();
        String model;
        if (prompt.model().isPresent()) {
            model = prompt.model().get();
            services.model(model, info, "model");
        } else if (info.modelName() != null) {
            model = info.modelName();
            services.model(model, info, "modelName");
        } else {
            model = engine.config().defaultModel();
        }
        String promptId = prompt.id().orElseGet(services::newId);
        Turn turn = new Turn(info, caller, prompt, promptId, model,
                prompt.contextSize().orElse(engine.config().defaultContextSize()),
                prompt.createdAt().orElseGet(() -> services.clock().instant()), List.of(), -1, -1);
        TurnResult result;
        try {
            result = StageChain.run(engine.stages(), turn, services);
        } catch (ParleyException e) {
            if (!REFUSALS.contains(e.code())) {
                recordFailure(info, promptId, e.code().name());
            }
            throw e;
        } catch (RuntimeException e) {
            recordFailure(info, promptId, "INTERNAL");
            throw e;
        }
        if (result.messageId() == null || result.usage() == null || result.createdAt() == null) {
            throw new IllegalStateException("the pipeline answered without storing the turn: "
                    + "it needs a PersistStage and an AccountingStage, as in PromptPipeline.defaults()");
        }
        String text = prompt.plaintext() ? Plaintext.of(result.text()) : result.text();
        return new Reply(info.id(), promptId, result.messageId(), text, result.model(), result.usage(),
                Credits.unmetered(), result.status(), result.replayed(), result.createdAt());
    }

    private void recordFailure(ConversationInfo info, String promptId, String code) {
        try {
            services.publish(CallerConversations.event(AuditEvent.Type.TURN_FAILED, info, caller.userId(),
                    "code=" + code + " message=" + promptId, services));
        } catch (RuntimeException e) {
            LOG.warn("Could not record the failure of a turn in conversation {}", info.id(), e);
        }
    }

    @Override
    public StreamHandle stream(Prompt prompt, StreamListener listener) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(listener, "listener");
        throw new UnsupportedOperationException("streaming is not supported yet: use send(prompt)");
    }

    @Override
    public void cancelStream() {
        load();
        // No turn of this engine streams yet, so there is never an active stream to cancel.
    }

    @Override
    public Page<Message> messages(PageRequest page) {
        Objects.requireNonNull(page, "page");
        load();
        return services.store().messages(id, page);
    }

    @Override
    public ConversationInfo update(ConversationPatch patch) {
        Objects.requireNonNull(patch, "patch");
        if (patch.isEmpty()) {
            throw new InvalidRequestException("patch", "at least one field must be given");
        }
        ConversationInfo info = load();
        Steering steering = patch.applyTo(info.steering());
        CallerConversations.checkSteering(changedIds(info.steering(), steering), info.organizationId(), services);
        String modelName = patch.modelName().applyTo(info.modelName());
        if (!patch.modelName().isKeep() && modelName != null
                && !services.hasModel(modelName, info.organizationId(), info.workspaceId(), info.repositoryId())) {
            throw new InvalidRequestException("modelName", "unknown model " + modelName);
        }
        ConversationInfo updated = services.store()
                .updateSettings(id, steering, modelName, services.clock().instant())
                .orElseThrow(() -> new ConversationNotFoundException(id));
        services.publish(CallerConversations.event(AuditEvent.Type.CONVERSATION_UPDATED, updated, caller.userId(),
                "fields=" + String.join(",", changedFields(patch)), services));
        return updated;
    }

    /** Steering holding only the ids that changed, so that ids stored earlier are not checked again. */
    private static Steering changedIds(Steering before, Steering after) {
        return new Steering(null, null,
                Objects.equals(before.brandVoiceId(), after.brandVoiceId()) ? null : after.brandVoiceId(),
                Objects.equals(before.targetAudienceId(), after.targetAudienceId()) ? null : after.targetAudienceId());
    }

    private static List<String> changedFields(ConversationPatch p) {
        List<String> fields = new ArrayList<>(5);
        if (!p.personality().isKeep()) {
            fields.add("personality");
        }
        if (!p.personalityId().isKeep()) {
            fields.add("personalityId");
        }
        if (!p.brandVoiceId().isKeep()) {
            fields.add("brandVoiceId");
        }
        if (!p.targetAudienceId().isKeep()) {
            fields.add("targetAudienceId");
        }
        if (!p.modelName().isKeep()) {
            fields.add("modelName");
        }
        return fields;
    }

    @Override
    public void delete() {
        ConversationInfo info = load();
        if (!services.store().delete(id, services.clock().instant())) {
            throw new ConversationNotFoundException(id);
        }
        services.publish(CallerConversations.event(AuditEvent.Type.CONVERSATION_DELETED, info, caller.userId(), "", services));
    }

    private ConversationInfo load() {
        return CallerConversations.loadVisible(services, caller, id);
    }

    @Override
    public String toString() {
        return "Conversation{" + id + " as " + caller.userId() + "}";
    }
}
