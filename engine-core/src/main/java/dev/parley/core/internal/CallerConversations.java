package dev.parley.core.internal;

import dev.parley.api.AccessDeniedException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.RepositoryNotFoundException;
import dev.parley.api.Steering;
import dev.parley.api.WorkspaceRole;
import dev.parley.api.internal.Checks;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ScopeDirectory.RepositoryScope;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** The conversations one caller may reach. Thread safe. */
final class CallerConversations implements Conversations {
    private final Caller caller;
    private final DefaultConversationEngine engine;
    private final CoreServices services;

    CallerConversations(Caller caller, DefaultConversationEngine engine) {
        this.caller = caller;
        this.engine = engine;
        this.services = engine.services();
    }

    @Override
    public Caller caller() {
        return caller;
    }

    @Override
    public Conversation create(NewConversation request) {
        Objects.requireNonNull(request, "request");
        engine.checkOpen();
        String organizationId = caller.organizationId();
        String workspaceId;
        String repositoryId = request.repositoryId().orElse(null);
        if (repositoryId != null) {
            RepositoryScope repo = engine.config().scopeDirectory().repository(repositoryId)
                    .filter(r -> r.organizationId().equals(caller.organizationId()))
                    .orElseThrow(() -> new RepositoryNotFoundException(repositoryId));
            workspaceId = repo.workspace().orElseThrow(() ->
                    new InvalidRequestException("repositoryId", "repository " + repositoryId + " belongs to no workspace"));
        } else {
            workspaceId = request.workspaceId().orElseThrow();
        }
        if (!caller.canUseWorkspace(workspaceId)) {
            throw new AccessDeniedException(caller.userId(), "create conversations in workspace " + workspaceId);
        }
        checkSteering(request.steering(), organizationId);
        String modelName = request.modelName().orElse(null);
        if (modelName != null && !services.hasModel(modelName, organizationId, workspaceId, repositoryId)) {
            throw new InvalidRequestException("modelName", "unknown model " + modelName);
        }
        Instant now = services.clock().instant();
        Instant createdAt = request.createdAt().map(t -> Checks.clientTime("createdAt", t, now)).orElse(now);
        ConversationInfo info = new ConversationInfo(services.newId(), organizationId, workspaceId, repositoryId,
                caller.userId(), request.steering(), modelName, 0, 0, createdAt, createdAt, request.modelParameters());
        AuditEvent created = event(AuditEvent.Type.CONVERSATION_CREATED, info, "");
        services.store().insert(info, created);
        services.notifySink(created);
        return new ConversationHandle(info.id(), caller, engine);
    }

    @Override
    public Conversation importConversation(dev.parley.api.ConversationExport export) {
        engine.checkOpen();
        if (export == null) {
            throw new InvalidRequestException("export", "is required");
        }
        ConversationInfo source = export.conversation();
        boolean owner = source.ownerId().equals(caller.userId()) && caller.canUseWorkspace(source.workspaceId());
        if (!source.organizationId().equals(caller.organizationId()) || !(caller.organizationAdmin() || owner)) {
            throw new AccessDeniedException(caller.userId(), "import a conversation of workspace "
                    + source.workspaceId());
        }
        String repositoryId = source.repositoryId();
        if (repositoryId != null) {
            RepositoryScope repo = engine.config().scopeDirectory().repository(repositoryId)
                    .filter(r -> r.organizationId().equals(caller.organizationId()))
                    .orElseThrow(() -> new RepositoryNotFoundException(repositoryId));
            if (!repo.workspace().map(source.workspaceId()::equals).orElse(false)) {
                throw new InvalidRequestException("conversation.repositoryId", "repository " + repositoryId
                        + " does not belong to workspace " + source.workspaceId());
            }
        }
        try {
            checkSteering(source.steering(), source.organizationId());
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException("conversation.steering." + e.field(),
                    e.getMessage().substring(e.field().length() + 2));
        }
        if (source.modelName() != null && !services.hasModel(source.modelName(), source.organizationId(),
                source.workspaceId(), repositoryId)) {
            throw new InvalidRequestException("conversation.modelName", "unknown model " + source.modelName());
        }
        Instant now = services.clock().instant();
        Checks.clientTime("conversation.createdAt", source.createdAt(), now);
        Checks.clientTime("conversation.updatedAt", source.updatedAt(), now);
        List<dev.parley.api.Message> messages = export.messages();
        for (int i = 0; i < messages.size(); i++) {
            Checks.clientTime("messages[" + i + "].createdAt", messages.get(i).createdAt(), now);
        }
        ConversationInfo info = new ConversationInfo(source.id(), source.organizationId(), source.workspaceId(),
                repositoryId, source.ownerId(), source.steering(), source.modelName(), source.tokensIn(),
                source.tokensOut(), source.createdAt().truncatedTo(java.time.temporal.ChronoUnit.MICROS),
                source.updatedAt().truncatedTo(java.time.temporal.ChronoUnit.MICROS), source.modelParameters());
        AuditEvent imported = event(AuditEvent.Type.CONVERSATION_IMPORTED, info, messages.size() + " messages");
        // Summaries come along into a store that keeps them; elsewhere the messages, which they only stand in for.
        List<dev.parley.api.compaction.Summary> summaries = services.summaries().isPresent() ? export.summaries()
                : List.of();
        if (!services.store().importConversation(info, messages, summaries, imported)) {
            throw new InvalidRequestException("conversation.id", "a conversation with this id is already stored");
        }
        services.notifySink(imported);
        return new ConversationHandle(info.id(), caller, engine);
    }

    @Override
    public Conversation get(String conversationId) {
        engine.checkOpen();
        ConversationInfo info = loadVisible(services, caller, conversationId);
        return new ConversationHandle(info.id(), caller, engine);
    }

    @Override
    public Page<ConversationInfo> list(ConversationQuery query) {
        engine.checkOpen();
        Objects.requireNonNull(query, "query");
        Set<String> administered = caller.workspaces().entrySet().stream()
                .filter(e -> e.getValue() == WorkspaceRole.ADMIN)
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        ConversationFilter filter = new ConversationFilter(caller.organizationId(), caller.organizationAdmin(),
                administered, caller.userId(), query.workspaceId(), query.repositoryId());
        return services.store().list(filter, query.page());
    }

    @Override
    public Page<dev.parley.api.policy.Violation> violations(String workspaceId, PageRequest page) {
        engine.checkOpen();
        Checks.id("workspaceId", workspaceId);
        Objects.requireNonNull(page, "page");
        if (!caller.administers(workspaceId)) {
            throw new AccessDeniedException(caller.userId(), "list the policy violations of workspace " + workspaceId);
        }
        return violationLog(services).violations(
                dev.parley.api.policy.ViolationQuery.workspace(caller.organizationId(), workspaceId), page);
    }

    @Override
    public dev.parley.api.Page<dev.parley.api.usage.UsageRow> usage(dev.parley.api.usage.UsageQuery query,
                                                                   PageRequest page) {
        engine.checkOpen();
        if (query == null) {
            throw new InvalidRequestException("query", "is required");
        }
        Objects.requireNonNull(page, "page");
        dev.parley.api.usage.UsageQuery allowed = query;
        if (!caller.organizationAdmin()
                && !(query.workspaceId() != null && caller.administers(query.workspaceId()))) {
            // Anyone else sees their own turns only.
            if (query.userId() != null && !query.userId().equals(caller.userId())) {
                throw new AccessDeniedException(caller.userId(), "read the usage of another user");
            }
            allowed = query.ofUser(caller.userId());
        }
        if (!(services.store() instanceof dev.parley.api.spi.UsageLedger ledger)) {
            throw new IllegalStateException("the engine's store " + services.store().getClass().getName()
                    + " keeps no usage ledger: it is no UsageLedger");
        }
        return ledger.usage(caller.organizationId(), allowed, page);
    }

    /** The store's violations, when it keeps them. */
    static dev.parley.api.spi.ViolationLog violationLog(CoreServices services) {
        if (services.store() instanceof dev.parley.api.spi.ViolationLog log) {
            return log;
        }
        throw new IllegalStateException("the engine's store " + services.store().getClass().getName()
                + " keeps no policy violations: it is no ViolationLog");
    }

    /** Refuses brand voice and target audience ids the resolver does not know. */
    static void checkSteering(Steering steering, String organizationId, CoreServices services) {
        if (steering.brandVoiceId() != null
                && services.steeringResolver().brandVoice(organizationId, steering.brandVoiceId()).isEmpty()) {
            throw new InvalidRequestException("brandVoiceId", "unknown brand voice " + steering.brandVoiceId());
        }
        if (steering.targetAudienceId() != null
                && services.steeringResolver().targetAudience(organizationId, steering.targetAudienceId()).isEmpty()) {
            throw new InvalidRequestException("targetAudienceId", "unknown target audience " + steering.targetAudienceId());
        }
    }

    private void checkSteering(Steering steering, String organizationId) {
        checkSteering(steering, organizationId, services);
    }

    /** The live conversation, if the caller may see it. */
    static ConversationInfo loadVisible(CoreServices services, Caller caller, String conversationId) {
        Checks.id("conversationId", conversationId);
        return visible(caller, conversationId, services.store().find(conversationId));
    }

    /** The live conversation with its stream status, read together, if the caller may see it. */
    static ConversationStore.ConversationState loadVisibleWithStreams(CoreServices services, Caller caller,
                                                                      String conversationId) {
        Checks.id("conversationId", conversationId);
        Optional<ConversationStore.ConversationState> state =
                services.store().findWithStreams(conversationId, services.clock().instant());
        visible(caller, conversationId, state.map(ConversationStore.ConversationState::conversation));
        return state.orElseThrow();
    }

    private static ConversationInfo visible(Caller caller, String conversationId, Optional<ConversationInfo> found) {
        ConversationInfo info = found
                .filter(c -> c.organizationId().equals(caller.organizationId()))
                .orElseThrow(() -> new ConversationNotFoundException(conversationId));
        if (!AccessRules.canSee(caller, info)) {
            throw new AccessDeniedException(caller.userId(), "see conversation " + conversationId);
        }
        return info;
    }

    static AuditEvent event(AuditEvent.Type type, ConversationInfo c, String actorId, String detail, CoreServices services) {
        return new AuditEvent(services.newId(), type, c.id(), c.organizationId(), c.workspaceId(), actorId,
                services.clock().instant(), detail);
    }

    private AuditEvent event(AuditEvent.Type type, ConversationInfo c, String detail) {
        return event(type, c, caller.userId(), detail, services);
    }
}
