package dev.parley.samples.server.config;

import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * The server's configuration file, as read from JSON: the tenants (organizations, workspaces, repositories, boards
 * and chats), the users and their credentials, the models and their prices, credit accounts, policies and rate
 * limits. Every list may be omitted (empty). {@link ConfigLoader} reads it, refusing unknown fields, and checks it
 * with {@link ConfigValidator}; a value of the form {@code ${NAME}} is replaced by the environment variable
 * {@code NAME}. Immutable and thread safe.
 *
 * @param organizations the organizations
 * @param workspaces the workspaces, each in one organization
 * @param repositories the repositories; one without a workspace is an orphan, refused by the repository-style API
 * @param boards the boards of the assistant-style API, each in one workspace, with its chats
 * @param users who may call the server
 * @param models the models turns can use
 * @param defaultModel the model of turns that name none; the first model of global scope when null
 * @param credits the credit accounts opened at start, with their opening balance
 * @param policies the policy rules turns are checked with
 * @param rateLimits requests and tokens per minute, or null for none
 * @param brandVoices the brand voices a workspace-style conversation's {@code brandVoiceId} may name
 * @param targetAudiences the target audiences a workspace-style conversation's {@code targetAudienceId} may name
 */
public record ServerConfig(
        @Nullable List<Organization> organizations,
        @Nullable List<Workspace> workspaces,
        @Nullable List<Repository> repositories,
        @Nullable List<Board> boards,
        @Nullable List<User> users,
        @Nullable List<Model> models,
        @Nullable String defaultModel,
        @Nullable List<CreditAccount> credits,
        @Nullable List<Policy> policies,
        @Nullable RateLimit rateLimits,
        @Nullable List<SteeringText> brandVoices,
        @Nullable List<SteeringText> targetAudiences) {

    public ServerConfig {
        organizations = copy(organizations);
        workspaces = copy(workspaces);
        repositories = copy(repositories);
        boards = copy(boards);
        users = copy(users);
        models = copy(models);
        credits = copy(credits);
        policies = copy(policies);
        brandVoices = copy(brandVoices);
        targetAudiences = copy(targetAudiences);
    }

    private static <T> List<T> copy(@Nullable List<T> list) {
        return list == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(list));
    }

    /** An organization. */
    public record Organization(@Nullable String id, @Nullable String name) {
    }

    /**
     * A workspace of an organization.
     *
     * @param legacyCustomerId the numeric customer id the workspace-style API reports, or null
     */
    public record Workspace(@Nullable String id, @Nullable String organizationId, @Nullable String name,
                            @Nullable Long legacyCustomerId) {
    }

    /** A repository of an organization; {@code workspaceId} null makes it an orphan. */
    public record Repository(@Nullable String id, @Nullable String organizationId, @Nullable String workspaceId,
                             @Nullable String name) {
    }

    /** A board of a workspace, with its chats. */
    public record Board(@Nullable String id, @Nullable String workspaceId, @Nullable List<Chat> chats) {
        public Board {
            chats = copy(chats);
        }
    }

    /** A chat of a board. */
    public record Chat(@Nullable String id, @Nullable String name) {
    }

    /**
     * A user of one organization.
     *
     * @param token the bearer token the user authenticates with
     * @param apiKey the key the assistant-style API authenticates with, or null
     * @param organizationAdmin whether the user administers the whole organization
     * @param workspaces the user's role ({@code admin} or {@code member}) in each workspace
     */
    public record User(@Nullable String id, @Nullable String organizationId, @Nullable String token,
                       @Nullable String apiKey, @Nullable Boolean organizationAdmin,
                       @Nullable Map<String, String> workspaces) {
        public User {
            workspaces = workspaces == null ? Map.of()
                    : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(workspaces));
        }

        /** Without the token and the API key, which are secrets. */
        @Override
        public String toString() {
            return "User{id=" + id + ", organizationId=" + organizationId + ", organizationAdmin=" + organizationAdmin
                    + ", workspaces=" + workspaces + "}";
        }
    }

    /**
     * A model turns can use.
     *
     * @param name the name turns and conversations use
     * @param provider {@code demo} (offline) or {@code openai} (any OpenAI-compatible server)
     * @param apiKey the provider's API key ({@code openai})
     * @param baseUrl the provider's base URL ({@code openai}), or null for the provider's own
     * @param modelName the provider's name of the model, or null for {@code name}
     * @param timeoutSeconds how long a call may take ({@code openai}), or null for 60 seconds
     * @param contextWindow the model's context window in tokens, or null for the engine's default
     * @param price what its turns cost in credits, or null for free
     * @param scope where it is visible, or null for everywhere
     */
    public record Model(@Nullable String name, @Nullable String provider, @Nullable String apiKey,
                        @Nullable String baseUrl, @Nullable String modelName, @Nullable Integer timeoutSeconds,
                        @Nullable Integer contextWindow, @Nullable Price price, @Nullable Scope scope) {

        @Override
        public String toString() {
            return "Model{name=" + name + ", provider=" + provider + ", baseUrl=" + baseUrl + "}";
        }
    }

    /** Credits per 1,000 input and output tokens and per request, as decimal strings ({@code "0.15"}). */
    public record Price(@Nullable String perThousandInput, @Nullable String perThousandOutput,
                        @Nullable String perRequest) {
    }

    /**
     * Where a model or policy applies: everywhere (all null), an organization, or a workspace or repository of it.
     */
    public record Scope(@Nullable String organizationId, @Nullable String workspaceId, @Nullable String repositoryId) {
    }

    /**
     * A credit account.
     *
     * @param kind {@code organization}, {@code workspace}, {@code repository} or {@code user}
     * @param id the owner's id (the organization's own id for an organization account)
     * @param organizationId the owner's organization; may be omitted for an organization account
     * @param balance the opening balance, a decimal string, granted once when the account is opened
     */
    public record CreditAccount(@Nullable String kind, @Nullable String id, @Nullable String organizationId,
                                @Nullable String balance) {
    }

    /**
     * A policy rule.
     *
     * @param kind {@code secrets}, {@code pii}, {@code prompt-injection}, {@code deny-list} or {@code size}
     * @param id the rule's id, or null for the kind's default id
     * @param action {@code log}, {@code alert}, {@code block} or {@code redact}
     * @param phases which of {@code pre}, {@code during}, {@code post} it checks, or null for all
     * @param scope where it applies, or null for everywhere
     * @param words the words of a {@code deny-list}
     * @param maxChars the longest text a {@code size} rule lets pass
     */
    public record Policy(@Nullable String kind, @Nullable String id, @Nullable String action,
                         @Nullable List<String> phases, @Nullable Scope scope, @Nullable List<String> words,
                         @Nullable Integer maxChars) {
    }

    /** Requests and tokens per minute per caller, workspace and organization; null or zero means no limit. */
    public record RateLimit(@Nullable Limit perCaller, @Nullable Limit perWorkspace, @Nullable Limit perOrganization) {
    }

    /** One scope's limits per minute. */
    public record Limit(@Nullable Long requestsPerMinute, @Nullable Long tokensPerMinute) {
    }

    /**
     * A brand voice or target audience of one organization: the text the model is steered with when a conversation
     * names its id.
     */
    public record SteeringText(@Nullable String id, @Nullable String organizationId, @Nullable String text) {

        /** Without the text, which can be long. */
        @Override
        public String toString() {
            return "SteeringText{id=" + id + ", organizationId=" + organizationId + "}";
        }
    }
}
