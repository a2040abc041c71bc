package dev.parley.api.policy;

import dev.parley.api.InvalidRequestException;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A rule described by data, as a store's {@linkplain dev.parley.api.spi.PolicyRegistry policy registry} keeps it so
 * that rules can be added, changed or disabled while engines run: a policy {@link #kind()} known to a
 * {@link dev.parley.api.spi.PolicyFactory} with its parameters, and everything a {@link PolicyRule} has. Immutable
 * and thread safe.
 *
 * <p>Every option is checked when set, and strings (as an HTTP admin API receives them) are parsed case-insensitively:
 * a bad value is an {@link InvalidRequestException} naming the field.
 */
public final class PolicySpec {
    /** The most parameters a spec may have. */
    public static final int MAX_PARAMETERS = 32;
    /** The longest parameter value: a deny list of some hundred words fits. */
    public static final int MAX_PARAMETER_LENGTH = 16_384;

    private static final Pattern KIND = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern PARAMETER = Pattern.compile("[a-zA-Z][a-zA-Z0-9._-]{0,63}");

    private final String id;
    private final String kind;
    private final Map<String, String> parameters;
    private final PolicyAction action;
    private final Set<PolicyPhase> phases;
    private final FailMode failMode;
    private final Duration timeBudget;
    private final PolicyScope scope;
    private final boolean enabled;

    private PolicySpec(Builder b) {
        this.id = b.id;
        this.kind = b.kind;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(b.parameters));
        this.action = b.action;
        this.phases = Collections.unmodifiableSet(EnumSet.copyOf(b.phases));
        this.failMode = b.failMode;
        this.timeBudget = b.timeBudget;
        this.scope = b.scope;
        this.enabled = b.enabled;
    }

    /**
     * A spec of rule {@code id} using a policy of {@code kind} (for example {@code deny-list}).
     *
     * @throws InvalidRequestException naming {@code id} or {@code kind} when one is malformed
     */
    public static Builder builder(String id, String kind) {
        return new Builder(id, kind);
    }

    /** The rule's id, unique in the registry, recorded with each violation. */
    public String id() {
        return id;
    }

    /** Which policy: the kind of a {@link dev.parley.api.spi.PolicyFactory}. */
    public String kind() {
        return kind;
    }

    /** The policy's parameters, in the order they were set: what its factory reads. */
    public Map<String, String> parameters() {
        return parameters;
    }

    public PolicyAction action() {
        return action;
    }

    public Set<PolicyPhase> phases() {
        return phases;
    }

    public FailMode failMode() {
        return failMode;
    }

    public Duration timeBudget() {
        return timeBudget;
    }

    public PolicyScope scope() {
        return scope;
    }

    /** Whether the rule is checked; a disabled rule stays in the registry. */
    public boolean enabled() {
        return enabled;
    }

    /** A builder holding this spec's values, to change one. */
    public Builder toBuilder() {
        Builder b = new Builder(id, kind);
        b.parameters.putAll(parameters);
        b.action = action;
        b.phases = EnumSet.copyOf(phases);
        b.failMode = failMode;
        b.timeBudget = timeBudget;
        b.scope = scope;
        b.enabled = enabled;
        return b;
    }

    /** The rule this spec describes, with the policy its factory made. */
    public PolicyRule toRule(dev.parley.api.spi.Policy policy) {
        return PolicyRule.of(policy, action).id(id).phases(phases.toArray(PolicyPhase[]::new)).failMode(failMode)
                .timeBudget(timeBudget).scope(scope).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PolicySpec s && id.equals(s.id) && kind.equals(s.kind) && parameters.equals(s.parameters)
                && action == s.action && phases.equals(s.phases) && failMode == s.failMode
                && timeBudget.equals(s.timeBudget) && scope.equals(s.scope) && enabled == s.enabled;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, kind, parameters, action, phases, failMode, timeBudget, scope, enabled);
    }

    /** Names and settings; parameter names without their values, which may be deny-listed words. */
    @Override
    public String toString() {
        return "PolicySpec{id=" + id + ", kind=" + kind + ", parameters=" + parameters.keySet() + ", action=" + action
                + ", phases=" + phases + ", failMode=" + failMode + ", timeBudget=" + timeBudget + ", scope=" + scope
                + ", enabled=" + enabled + "}";
    }

    /** Builds a spec; every option is checked when set. Not thread safe. */
    public static final class Builder {
        private final String id;
        private final String kind;
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private PolicyAction action = PolicyAction.LOG;
        private EnumSet<PolicyPhase> phases = EnumSet.allOf(PolicyPhase.class);
        private FailMode failMode = FailMode.OPEN;
        private Duration timeBudget = PolicyRule.DEFAULT_TIME_BUDGET;
        private PolicyScope scope = PolicyScope.everywhere();
        private boolean enabled = true;

        private Builder(String id, String kind) {
            try {
                this.id = PolicyRule.checkId("id", id);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("id", e.getMessage());
            }
            if (kind == null || !KIND.matcher(kind).matches()) {
                throw new InvalidRequestException("kind", "must be 1 to 64 characters of a-z, 0-9, '.', '_', '-'");
            }
            this.kind = kind;
        }

        /** Sets one parameter of the policy. */
        public Builder parameter(String name, String value) {
            if (name == null || !PARAMETER.matcher(name).matches()) {
                throw new InvalidRequestException("parameters", "a parameter name must be 1 to 64 characters of "
                        + "letters, digits, '.', '_', '-', starting with a letter");
            }
            if (value == null) {
                throw new InvalidRequestException("parameters." + name, "is required");
            }
            if (value.length() > MAX_PARAMETER_LENGTH || value.indexOf('\0') >= 0) {
                throw new InvalidRequestException("parameters." + name, "must be at most " + MAX_PARAMETER_LENGTH
                        + " characters, without NUL");
            }
            if (!parameters.containsKey(name) && parameters.size() == MAX_PARAMETERS) {
                throw new InvalidRequestException("parameters", "must be at most " + MAX_PARAMETERS);
            }
            parameters.put(name, value);
            return this;
        }

        public Builder action(PolicyAction value) {
            this.action = PolicyRule.required("action", value);
            return this;
        }

        /** The action by name: LOG, ALERT, BLOCK or REDACT, in any case. */
        public Builder action(String name) {
            return action(parse(PolicyAction.class, "action", name));
        }

        public Builder phases(PolicyPhase... checked) {
            this.phases = PolicyRule.phaseSet(checked);
            return this;
        }

        /** The phases by name: PRE, DURING, POST, in any case. */
        public Builder phases(String... names) {
            if (names == null || names.length == 0) {
                throw new InvalidRequestException("phases", "must name at least one phase");
            }
            PolicyPhase[] parsed = new PolicyPhase[names.length];
            for (int i = 0; i < names.length; i++) {
                parsed[i] = parse(PolicyPhase.class, "phases", names[i]);
            }
            return phases(parsed);
        }

        public Builder failMode(FailMode mode) {
            this.failMode = PolicyRule.required("failMode", mode);
            return this;
        }

        /** The fail mode by name: OPEN or CLOSED, in any case. */
        public Builder failMode(String name) {
            return failMode(parse(FailMode.class, "failMode", name));
        }

        public Builder timeBudget(Duration budget) {
            this.timeBudget = PolicyRule.checkBudget(budget);
            return this;
        }

        public Builder scope(PolicyScope where) {
            this.scope = PolicyRule.required("scope", where);
            return this;
        }

        public Builder enabled(boolean on) {
            this.enabled = on;
            return this;
        }

        public PolicySpec build() {
            return new PolicySpec(this);
        }

        private static <E extends Enum<E>> E parse(Class<E> type, String field, String name) {
            if (name != null) {
                for (E e : type.getEnumConstants()) {
                    if (e.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
                        return e;
                    }
                }
            }
            throw new InvalidRequestException(field, "must be one of " + java.util.Arrays.toString(type.getEnumConstants()));
        }
    }
}
