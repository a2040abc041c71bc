package dev.parley.samples.server.config;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.credits.ModelPrice;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Checks a {@link ServerConfig} as a whole: required values present, ids well formed and unique, references to
 * organizations and workspaces that exist, enumerated values spelled as documented. Each problem names the JSON
 * path of its field. Not thread safe; use one per check.
 */
final class ConfigValidator {
    /** The model providers the server knows. */
    static final Set<String> PROVIDERS = Set.of("demo", "openai");
    /** The policy kinds the server knows. */
    static final Set<String> POLICY_KINDS = Set.of("secrets", "pii", "prompt-injection", "deny-list", "size");
    static final Set<String> ACTIONS = Set.of("log", "alert", "block", "redact");
    static final Set<String> PHASES = Set.of("pre", "during", "post");
    static final Set<String> ROLES = Set.of("admin", "member");
    static final Set<String> ACCOUNT_KINDS = Set.of("organization", "workspace", "repository", "user");
    private static final int MAX_ID_LENGTH = 128;

    private final List<String> problems = new ArrayList<>();
    private final Set<String> organizations = new HashSet<>();
    /** Workspace id to its organization. */
    private final Map<String, String> workspaces = new HashMap<>();
    /** Repository id to its organization. */
    private final Map<String, String> repositories = new HashMap<>();
    /** User id to its organization. */
    private final Map<String, String> users = new HashMap<>();

    List<String> check(ServerConfig config) {
        checkOrganizations(config.organizations());
        checkWorkspaces(config.workspaces());
        checkRepositories(config.repositories());
        checkBoards(config.boards());
        checkUsers(config.users());
        checkModels(config.models(), config.defaultModel());
        checkCredits(config.credits());
        checkPolicies(config.policies());
        checkRateLimits(config.rateLimits());
        checkSteering("brandVoices", config.brandVoices());
        checkSteering("targetAudiences", config.targetAudiences());
        return List.copyOf(problems);
    }

    /**
     * Checks the model {@link ConfigLoader} adds from the environment, each problem naming its environment variable.
     */
    List<String> checkEnvironmentModel(String apiKey, @Nullable String baseUrl, @Nullable String modelName) {
        secret(ConfigLoader.OPENAI_API_KEY, apiKey, true);
        if (baseUrl != null) {
            url(ConfigLoader.OPENAI_BASE_URL, baseUrl);
        }
        if (modelName != null) {
            label(ConfigLoader.PARLEY_MODEL, modelName);
        }
        return List.copyOf(problems);
    }

    private void checkOrganizations(List<ServerConfig.Organization> list) {
        if (list.isEmpty()) {
            problems.add("organizations: must list at least one organization");
        }
        for (int i = 0; i < list.size(); i++) {
            String path = "organizations[" + i + "]";
            ServerConfig.Organization org = list.get(i);
            if (org == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            if (id(path + ".id", org.id()) && !organizations.add(org.id())) {
                problems.add(path + ".id: duplicates another organization's id");
            }
        }
    }

    private void checkWorkspaces(List<ServerConfig.Workspace> list) {
        Set<Long> customerIds = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "workspaces[" + i + "]";
            ServerConfig.Workspace ws = list.get(i);
            if (ws == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean org = organization(path + ".organizationId", ws.organizationId());
            if (id(path + ".id", ws.id()) && org && workspaces.putIfAbsent(ws.id(), ws.organizationId()) != null) {
                problems.add(path + ".id: duplicates another workspace's id");
            }
            if (ws.legacyCustomerId() != null) {
                if (ws.legacyCustomerId() < 1) {
                    problems.add(path + ".legacyCustomerId: must be a positive number");
                } else if (!customerIds.add(ws.legacyCustomerId())) {
                    problems.add(path + ".legacyCustomerId: duplicates another workspace's legacyCustomerId");
                }
            }
        }
    }

    private void checkRepositories(List<ServerConfig.Repository> list) {
        for (int i = 0; i < list.size(); i++) {
            String path = "repositories[" + i + "]";
            ServerConfig.Repository repo = list.get(i);
            if (repo == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean org = organization(path + ".organizationId", repo.organizationId());
            if (id(path + ".id", repo.id()) && org && repositories.putIfAbsent(repo.id(), repo.organizationId()) != null) {
                problems.add(path + ".id: duplicates another repository's id");
            }
            if (repo.workspaceId() != null && org) {
                workspaceOf(path + ".workspaceId", repo.workspaceId(), repo.organizationId());
            }
        }
    }

    private void checkBoards(List<ServerConfig.Board> list) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "boards[" + i + "]";
            ServerConfig.Board board = list.get(i);
            if (board == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            if (id(path + ".id", board.id()) && !ids.add(board.id())) {
                problems.add(path + ".id: duplicates another board's id");
            }
            if (id(path + ".workspaceId", board.workspaceId()) && !workspaces.containsKey(board.workspaceId())) {
                problems.add(path + ".workspaceId: no workspace has the id " + quote(board.workspaceId()));
            }
            Set<String> chats = new HashSet<>();
            for (int c = 0; c < board.chats().size(); c++) {
                String chatPath = path + ".chats[" + c + "]";
                ServerConfig.Chat chat = board.chats().get(c);
                if (chat == null) {
                    problems.add(chatPath + ": must not be null");
                } else if (id(chatPath + ".id", chat.id()) && !chats.add(chat.id())) {
                    problems.add(chatPath + ".id: duplicates another chat's id on this board");
                }
            }
        }
    }

    private void checkUsers(List<ServerConfig.User> list) {
        Set<String> tokens = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "users[" + i + "]";
            ServerConfig.User user = list.get(i);
            if (user == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean org = organization(path + ".organizationId", user.organizationId());
            if (id(path + ".id", user.id()) && org && users.putIfAbsent(user.id(), user.organizationId()) != null) {
                problems.add(path + ".id: duplicates another user's id");
            }
            if (secret(path + ".token", user.token(), true) && !tokens.add(user.token())) {
                problems.add(path + ".token: is the token of another user");
            }
            if (secret(path + ".apiKey", user.apiKey(), false) && !keys.add(user.apiKey())) {
                problems.add(path + ".apiKey: is the API key of another user");
            }
            for (Map.Entry<String, String> role : user.workspaces().entrySet()) {
                String rolePath = path + ".workspaces." + role.getKey();
                if (org) {
                    workspaceOf(rolePath, role.getKey(), user.organizationId());
                }
                oneOf(rolePath, role.getValue(), ROLES);
            }
        }
    }

    private void checkModels(List<ServerConfig.Model> list, @Nullable String defaultModel) {
        if (list.isEmpty()) {
            problems.add("models: must list at least one model");
        }
        Set<String> keys = new HashSet<>();
        Set<String> global = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "models[" + i + "]";
            ServerConfig.Model model = list.get(i);
            if (model == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean named = label(path + ".name", model.name());
            boolean scoped = scope(path + ".scope", model.scope());
            if (named && scoped) {
                ServerConfig.Scope s = model.scope();
                String key = s == null ? "" : s.organizationId() + "/" + s.workspaceId() + "/" + s.repositoryId();
                if (!keys.add(key + "\u0000" + model.name())) {
                    problems.add(path + ".name: another model of the same scope has this name");
                }
                if (s == null) {
                    global.add(model.name());
                }
            }
            if (oneOf(path + ".provider", model.provider(), PROVIDERS) && "openai".equals(model.provider())) {
                secret(path + ".apiKey", model.apiKey(), true);
                if (model.baseUrl() != null) {
                    url(path + ".baseUrl", model.baseUrl());
                }
            }
            if (model.modelName() != null) {
                label(path + ".modelName", model.modelName());
            }
            if (model.timeoutSeconds() != null && (model.timeoutSeconds() < 1 || model.timeoutSeconds() > 600)) {
                problems.add(path + ".timeoutSeconds: must be between 1 and 600");
            }
            if (model.contextWindow() != null && model.contextWindow() < 1) {
                problems.add(path + ".contextWindow: must be a positive number");
            }
            if (model.price() != null) {
                price(path + ".price", model.price());
            }
        }
        if (defaultModel != null && !global.contains(defaultModel)) {
            problems.add("defaultModel: no model of global scope (without scope) is named " + quote(defaultModel));
        } else if (defaultModel == null && !list.isEmpty() && global.isEmpty()) {
            problems.add("models: at least one model must have no scope, to be the default model");
        }
    }

    private void price(String path, ServerConfig.Price price) {
        decimal(path + ".perThousandInput", price.perThousandInput(), true);
        decimal(path + ".perThousandOutput", price.perThousandOutput(), true);
        if (price.perRequest() != null) {
            decimal(path + ".perRequest", price.perRequest(), true);
        }
    }

    private void checkCredits(List<ServerConfig.CreditAccount> list) {
        Set<String> owners = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "credits[" + i + "]";
            ServerConfig.CreditAccount account = list.get(i);
            if (account == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            decimal(path + ".balance", account.balance(), false);
            if (!oneOf(path + ".kind", account.kind(), ACCOUNT_KINDS) || !id(path + ".id", account.id())) {
                continue;
            }
            String org = switch (account.kind()) {
                case "organization" -> organizations.contains(account.id()) ? account.id() : null;
                case "workspace" -> workspaces.get(account.id());
                case "repository" -> repositories.get(account.id());
                default -> users.get(account.id());
            };
            if (org == null) {
                problems.add(path + ".id: no " + account.kind() + " has the id " + quote(account.id()));
            } else if (account.organizationId() != null && !account.organizationId().equals(org)) {
                problems.add(path + ".organizationId: the " + account.kind() + " belongs to " + quote(org));
            } else if (!owners.add(account.kind() + "\u0000" + org + "\u0000" + account.id())) {
                problems.add(path + ": another account has the same owner");
            }
        }
    }

    private void checkPolicies(List<ServerConfig.Policy> list) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "policies[" + i + "]";
            ServerConfig.Policy policy = list.get(i);
            if (policy == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean kind = oneOf(path + ".kind", policy.kind(), POLICY_KINDS);
            oneOf(path + ".action", policy.action(), ACTIONS);
            String ruleId = policy.id() != null ? policy.id() : kind ? policy.kind() : null;
            if (policy.id() != null && !policy.id().matches("[a-z0-9][a-z0-9._-]{0,63}")) {
                problems.add(path + ".id: must be 1 to 64 characters of a-z, 0-9, '.', '_', '-'");
            } else if (ruleId != null && !ids.add(ruleId)) {
                problems.add(path + (policy.id() != null ? ".id" : ".kind")
                        + ": another rule has the id " + quote(ruleId) + "; give one an id");
            }
            if (policy.phases() != null) {
                if (policy.phases().isEmpty()) {
                    problems.add(path + ".phases: must name at least one phase, or be left out for all");
                }
                for (int p = 0; p < policy.phases().size(); p++) {
                    oneOf(path + ".phases[" + p + "]", policy.phases().get(p), PHASES);
                }
            }
            scope(path + ".scope", policy.scope());
            if ("deny-list".equals(policy.kind())) {
                if (policy.words() == null || policy.words().isEmpty()) {
                    problems.add(path + ".words: a deny-list needs at least one word");
                } else {
                    for (int w = 0; w < policy.words().size(); w++) {
                        String word = policy.words().get(w);
                        if (word == null || word.isBlank()) {
                            problems.add(path + ".words[" + w + "]: must not be blank");
                        }
                    }
                }
            } else if (policy.words() != null) {
                problems.add(path + ".words: only a deny-list has words");
            }
            if ("size".equals(policy.kind())) {
                if (policy.maxChars() == null || policy.maxChars() < 1) {
                    problems.add(path + ".maxChars: a size rule needs a positive maxChars");
                }
            } else if (policy.maxChars() != null) {
                problems.add(path + ".maxChars: only a size rule has maxChars");
            }
        }
    }

    private void checkSteering(String name, List<ServerConfig.SteeringText> list) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = name + "[" + i + "]";
            ServerConfig.SteeringText entry = list.get(i);
            if (entry == null) {
                problems.add(path + ": must not be null");
                continue;
            }
            boolean org = organization(path + ".organizationId", entry.organizationId());
            if (id(path + ".id", entry.id()) && org && !ids.add(entry.organizationId() + "\u0000" + entry.id())) {
                problems.add(path + ".id: duplicates another id of the organization");
            }
            if (entry.text() == null) {
                problems.add(path + ".text: is required");
            } else if (entry.text().isBlank()) {
                problems.add(path + ".text: must not be blank");
            } else if (entry.text().length() > dev.parley.api.Limits.MAX_STEERING_LENGTH) {
                problems.add(path + ".text: must be at most " + dev.parley.api.Limits.MAX_STEERING_LENGTH
                        + " characters");
            }
        }
    }

    private void checkRateLimits(ServerConfig.@Nullable RateLimit limits) {
        if (limits == null) {
            return;
        }
        limit("rateLimits.perCaller", limits.perCaller());
        limit("rateLimits.perWorkspace", limits.perWorkspace());
        limit("rateLimits.perOrganization", limits.perOrganization());
    }

    private void limit(String path, ServerConfig.@Nullable Limit limit) {
        if (limit == null) {
            return;
        }
        if (limit.requestsPerMinute() != null && limit.requestsPerMinute() < 0) {
            problems.add(path + ".requestsPerMinute: must not be negative");
        }
        if (limit.tokensPerMinute() != null && limit.tokensPerMinute() < 0) {
            problems.add(path + ".tokensPerMinute: must not be negative");
        }
    }

    /** A scope: null (everywhere), or an organization with at most one of a workspace and a repository of it. */
    private boolean scope(String path, ServerConfig.@Nullable Scope scope) {
        if (scope == null) {
            return true;
        }
        if (!organization(path + ".organizationId", scope.organizationId())) {
            return false;
        }
        if (scope.workspaceId() != null && scope.repositoryId() != null) {
            problems.add(path + ": give a workspaceId or a repositoryId, not both");
            return false;
        }
        if (scope.workspaceId() != null) {
            return workspaceOf(path + ".workspaceId", scope.workspaceId(), scope.organizationId());
        }
        if (scope.repositoryId() != null) {
            String org = repositories.get(scope.repositoryId());
            if (org == null || !org.equals(scope.organizationId())) {
                problems.add(path + ".repositoryId: no repository of " + quote(scope.organizationId()) + " has the id "
                        + quote(scope.repositoryId()));
                return false;
            }
        }
        return true;
    }

    private boolean organization(String path, @Nullable String id) {
        if (!id(path, id)) {
            return false;
        }
        if (!organizations.contains(id)) {
            problems.add(path + ": no organization has the id " + quote(id));
            return false;
        }
        return true;
    }

    private boolean workspaceOf(String path, String id, String organizationId) {
        if (!id(path, id)) {
            return false;
        }
        String org = workspaces.get(id);
        if (org == null || !org.equals(organizationId)) {
            problems.add(path + ": no workspace of " + quote(organizationId) + " has the id " + quote(id));
            return false;
        }
        return true;
    }

    /** An id as the engine takes it: present, not blank, at most 128 characters, no control or format characters. */
    private boolean id(String path, @Nullable String value) {
        if (value == null) {
            problems.add(path + ": is required");
            return false;
        }
        if (value.isBlank()) {
            problems.add(path + ": must not be blank");
            return false;
        }
        if (value.length() > MAX_ID_LENGTH) {
            problems.add(path + ": must be at most " + MAX_ID_LENGTH + " characters");
            return false;
        }
        if (!printable(value)) {
            problems.add(path + ": must not contain control or invisible characters");
            return false;
        }
        return true;
    }

    private boolean label(String path, @Nullable String value) {
        if (!id(path, value)) {
            return false;
        }
        return true;
    }

    /** A secret: required or optional, not blank, printable. Its value is never quoted back. */
    private boolean secret(String path, @Nullable String value, boolean required) {
        if (value == null) {
            if (required) {
                problems.add(path + ": is required");
            }
            return false;
        }
        if (value.isBlank()) {
            problems.add(path + ": must not be blank");
            return false;
        }
        if (!printable(value) || value.chars().anyMatch(Character::isWhitespace)) {
            problems.add(path + ": must not contain spaces, control or invisible characters");
            return false;
        }
        return true;
    }

    private boolean oneOf(String path, @Nullable String value, Set<String> allowed) {
        if (value == null) {
            problems.add(path + ": is required, one of " + sorted(allowed));
            return false;
        }
        if (!allowed.contains(value)) {
            problems.add(path + ": must be one of " + sorted(allowed));
            return false;
        }
        return true;
    }

    private void decimal(String path, @Nullable String value, boolean price) {
        if (value == null) {
            problems.add(path + ": is required");
            return;
        }
        try {
            BigDecimal amount = ModelPrice.parse("value", value);
            if (!price && amount.signum() < 0) {
                problems.add(path + ": must not be negative");
            }
        } catch (InvalidRequestException e) {
            String problem = e.getMessage().substring(e.getMessage().indexOf(':') + 2);
            problems.add(path + ": " + problem);
        }
    }

    private void url(String path, String value) {
        try {
            URI uri = new URI(value);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                problems.add(path + ": must be an http or https URL");
            }
        } catch (URISyntaxException e) {
            problems.add(path + ": must be an http or https URL");
        }
    }

    private static boolean printable(String value) {
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || type == Character.FORMAT || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }

    private static String sorted(Set<String> values) {
        return String.join(", ", new java.util.TreeSet<>(values));
    }

    private static String quote(@Nullable String value) {
        return "\"" + value + "\"";
    }
}
