package dev.parley.samples.server;

import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.ModelScope;
import dev.parley.api.RateLimits;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicyScope;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.core.LangChain4jModel;
import dev.parley.policy.DenyListPolicy;
import dev.parley.policy.PiiPolicy;
import dev.parley.policy.PromptInjectionPolicy;
import dev.parley.policy.SecretsPolicy;
import dev.parley.policy.SizePolicy;
import dev.parley.samples.server.config.ServerConfig;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the one {@link ConversationEngine} the server runs on from a checked {@link ServerConfig}: the store (on the
 * server's {@link ServerDatabase}), the models and their prices, the
 * repositories' scopes, the policy rules and rate limits; then opens the configured credit accounts. Not thread
 * safe; use once.
 */
final class EngineSetup {
    private static final Logger LOG = LoggerFactory.getLogger(EngineSetup.class);
    private static final Duration DEFAULT_MODEL_TIMEOUT = Duration.ofSeconds(60);

    private EngineSetup() {
    }

    /**
     * The engine of {@code config} on {@code database}, with each model named in {@code providers} served by that
     * provider instead of the configured one (its scope and price kept).
     */
    static ConversationEngine build(ServerConfig config, ServerDatabase database,
                                    Map<String, ModelProvider> providers) {
        ConversationEngine.Builder b = ConversationEngine.builder()
                .store(JdbcConversationStore.of(database.dataSource()));
        for (ServerConfig.Model model : config.models()) {
            String name = Objects.requireNonNull(model.name());
            ModelProvider given = providers.get(name);
            b.model(modelScope(model.scope()), name, given != null ? given : provider(model));
        }
        Map<String, ModelPrice> prices = new HashMap<>();
        for (ServerConfig.Model model : config.models()) {
            if (model.price() != null) {
                prices.putIfAbsent(model.name(), price(model.price()));
            }
        }
        prices.forEach(b::price);
        if (config.defaultModel() != null) {
            b.defaultModel(config.defaultModel());
        }
        b.scopeDirectory(directory(config.repositories()));
        b.steeringResolver(new ConfiguredSteering(config.brandVoices(), config.targetAudiences()));
        b.policies(policies(config.policies()));
        b.alertSink(violation -> LOG.warn("policy alert: {}", violation));
        if (config.rateLimits() != null) {
            b.rateLimits(rateLimits(config.rateLimits()));
        }
        ConversationEngine engine = b.build();
        try {
            openAccounts(engine.credits(), config);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        return engine;
    }

    private static ModelProvider provider(ServerConfig.Model model) {
        if ("demo".equals(model.provider())) {
            return new DemoModel();
        }
        String modelName = model.modelName() != null ? model.modelName() : model.name();
        Duration timeout = model.timeoutSeconds() == null ? DEFAULT_MODEL_TIMEOUT
                : Duration.ofSeconds(model.timeoutSeconds());
        OpenAiChatModel.OpenAiChatModelBuilder chat = OpenAiChatModel.builder()
                .apiKey(model.apiKey()).modelName(modelName).timeout(timeout).maxRetries(0);
        OpenAiStreamingChatModel.OpenAiStreamingChatModelBuilder streaming = OpenAiStreamingChatModel.builder()
                .apiKey(model.apiKey()).modelName(modelName).timeout(timeout);
        if (model.baseUrl() != null) {
            chat.baseUrl(model.baseUrl());
            streaming.baseUrl(model.baseUrl());
        }
        LangChain4jModel provider = LangChain4jModel.of(chat.build(), streaming.build());
        return model.contextWindow() == null ? provider : provider.withContextWindow(model.contextWindow());
    }

    private static ModelScope modelScope(ServerConfig.@Nullable Scope scope) {
        if (scope == null) {
            return ModelScope.global();
        }
        String org = Objects.requireNonNull(scope.organizationId());
        if (scope.workspaceId() != null) {
            return ModelScope.workspace(org, scope.workspaceId());
        }
        if (scope.repositoryId() != null) {
            return ModelScope.repository(org, scope.repositoryId());
        }
        return ModelScope.organization(org);
    }

    private static ModelPrice price(ServerConfig.Price price) {
        ModelPrice p = ModelPrice.perThousand(Objects.requireNonNull(price.perThousandInput()),
                Objects.requireNonNull(price.perThousandOutput()));
        return price.perRequest() == null ? p : p.plusPerRequest(price.perRequest());
    }

    private static ScopeDirectory directory(List<ServerConfig.Repository> repositories) {
        Map<String, ScopeDirectory.RepositoryScope> scopes = new HashMap<>();
        for (ServerConfig.Repository repo : repositories) {
            String id = Objects.requireNonNull(repo.id());
            scopes.put(id, new ScopeDirectory.RepositoryScope(id, Objects.requireNonNull(repo.organizationId()),
                    repo.workspaceId()));
        }
        return ScopeDirectory.of(scopes);
    }

    private static PolicySet policies(List<ServerConfig.Policy> policies) {
        List<PolicyRule> rules = new ArrayList<>();
        for (ServerConfig.Policy p : policies) {
            dev.parley.api.spi.Policy policy = switch (Objects.requireNonNull(p.kind())) {
                case "secrets" -> SecretsPolicy.standard();
                case "pii" -> PiiPolicy.standard();
                case "prompt-injection" -> PromptInjectionPolicy.standard();
                case "deny-list" -> DenyListPolicy.words(Objects.requireNonNull(p.words()).toArray(String[]::new));
                case "size" -> SizePolicy.maxChars(Objects.requireNonNull(p.maxChars()));
                default -> throw new IllegalArgumentException("policy kind " + p.kind());
            };
            PolicyRule.Builder rule = PolicyRule.of(policy,
                    PolicyAction.valueOf(Objects.requireNonNull(p.action()).toUpperCase(Locale.ROOT)));
            if (p.id() != null) {
                rule.id(p.id());
            }
            if (p.phases() != null) {
                rule.phases(p.phases().stream().map(s -> PolicyPhase.valueOf(s.toUpperCase(Locale.ROOT)))
                        .toArray(PolicyPhase[]::new));
            }
            if (p.scope() != null) {
                rule.scope(policyScope(p.scope()));
            }
            rules.add(rule.build());
        }
        return PolicySet.of(rules);
    }

    private static PolicyScope policyScope(ServerConfig.Scope scope) {
        String org = Objects.requireNonNull(scope.organizationId());
        if (scope.workspaceId() != null) {
            return PolicyScope.workspace(org, scope.workspaceId());
        }
        if (scope.repositoryId() != null) {
            return PolicyScope.repository(org, scope.repositoryId());
        }
        return PolicyScope.organization(org);
    }

    private static RateLimits rateLimits(ServerConfig.RateLimit limits) {
        RateLimits.Builder b = RateLimits.builder();
        limit(b, RateLimits.Scope.CALLER, limits.perCaller());
        limit(b, RateLimits.Scope.WORKSPACE, limits.perWorkspace());
        limit(b, RateLimits.Scope.ORGANIZATION, limits.perOrganization());
        return b.build();
    }

    private static void limit(RateLimits.Builder b, RateLimits.Scope scope, ServerConfig.@Nullable Limit limit) {
        if (limit != null) {
            b.limit(scope, limit.requestsPerMinute() == null ? 0 : limit.requestsPerMinute(),
                    limit.tokensPerMinute() == null ? 0 : limit.tokensPerMinute());
        }
    }

    /**
     * Opens each configured account the store does not have yet and grants its opening balance once: the top-up is
     * keyed by the account, so restarts, and instances starting together on one PostgreSQL store, add it once. A
     * balance changed at run time is kept.
     */
    private static void openAccounts(CreditAccounts credits, ServerConfig config) {
        for (ServerConfig.CreditAccount a : config.credits()) {
            String id = Objects.requireNonNull(a.id());
            AccountOwner owner = switch (Objects.requireNonNull(a.kind())) {
                case "organization" -> AccountOwner.organization(id);
                case "workspace" -> AccountOwner.workspace(Objects.requireNonNull(organizationOf(config, a)), id);
                case "repository" -> AccountOwner.repository(Objects.requireNonNull(organizationOf(config, a)), id);
                default -> AccountOwner.user(Objects.requireNonNull(organizationOf(config, a)), id);
            };
            CreditAccount account = credits.account(owner).orElseGet(() -> open(credits, owner));
            BigDecimal balance = new BigDecimal(Objects.requireNonNull(a.balance()).strip());
            if (balance.signum() > 0) {
                try {
                    credits.topUp(account.id(), balance, "opening balance from the configuration",
                            "opening-" + account.id());
                } catch (InvalidRequestException e) {
                    LOG.warn("credits[{}]: the account was opened earlier with another balance; keeping the store's",
                            config.credits().indexOf(a));
                }
            }
        }
    }

    /** The organization of an account's owner: as given, else that of the workspace, repository or user. */
    private static @Nullable String organizationOf(ServerConfig config, ServerConfig.CreditAccount account) {
        if (account.organizationId() != null) {
            return account.organizationId();
        }
        String id = account.id();
        return switch (Objects.requireNonNull(account.kind())) {
            case "workspace" -> config.workspaces().stream().filter(w -> id.equals(w.id()))
                    .map(ServerConfig.Workspace::organizationId).findFirst().orElse(null);
            case "repository" -> config.repositories().stream().filter(r -> id.equals(r.id()))
                    .map(ServerConfig.Repository::organizationId).findFirst().orElse(null);
            case "user" -> config.users().stream().filter(u -> id.equals(u.id()))
                    .map(ServerConfig.User::organizationId).findFirst().orElse(null);
            default -> id;
        };
    }

    private static CreditAccount open(CreditAccounts credits, AccountOwner owner) {
        try {
            return credits.open(owner);
        } catch (InvalidRequestException e) {
            // Another instance on the same store opened it a moment ago.
            return credits.account(owner).orElseThrow(() -> e);
        }
    }
}
