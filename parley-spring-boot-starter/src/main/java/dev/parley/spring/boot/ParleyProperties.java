package dev.parley.spring.boot;

import dev.parley.api.PromptPipeline;
import dev.parley.api.policy.PolicyAction;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code parley.*} properties the auto-configured engine is built from. Every property is optional: left unset,
 * the engine's own default applies.
 *
 * <pre>
 * parley.default-model=openAiChatModel
 * parley.context-size=8000
 * parley.store.h2-file=data/parley
 * parley.timeouts.claim-lease=5s
 * parley.policies.actions.secrets=block
 * </pre>
 */
@ConfigurationProperties(prefix = "parley")
public class ParleyProperties {
    /**
     * The model of turns that name none: the name a model is registered under, which is its bean name. Required
     * when there are several models and none of them is a primary bean.
     */
    private @Nullable String defaultModel;

    /** The history token budget of prompts that give none. The engine's default is 16000. */
    private @Nullable Integer contextSize;

    /** The context window, in tokens, assumed for models that declare none. The engine's default is 128000. */
    private @Nullable Integer defaultContextWindow;

    /** Settings of the models found as beans, by their bean name. */
    private Map<String, Model> models = new LinkedHashMap<>();

    /** Credit prices per model name, for a store that keeps credits (both built-in stores do). */
    private Map<String, Price> prices = new LinkedHashMap<>();

    private final Store store = new Store();

    private final Timeouts timeouts = new Timeouts();

    private final Policies policies = new Policies();

    private final Pipeline pipeline = new Pipeline();

    private final Metrics metrics = new Metrics();

    private final Tracing tracing = new Tracing();

    public @Nullable String getDefaultModel() {
        return defaultModel;
    }

    public void setDefaultModel(@Nullable String defaultModel) {
        this.defaultModel = defaultModel;
    }

    public @Nullable Integer getContextSize() {
        return contextSize;
    }

    public void setContextSize(@Nullable Integer contextSize) {
        this.contextSize = contextSize;
    }

    public @Nullable Integer getDefaultContextWindow() {
        return defaultContextWindow;
    }

    public void setDefaultContextWindow(@Nullable Integer defaultContextWindow) {
        this.defaultContextWindow = defaultContextWindow;
    }

    public Map<String, Model> getModels() {
        return models;
    }

    public void setModels(Map<String, Model> models) {
        this.models = models;
    }

    public Map<String, Price> getPrices() {
        return prices;
    }

    public void setPrices(Map<String, Price> prices) {
        this.prices = prices;
    }

    public Store getStore() {
        return store;
    }

    public Timeouts getTimeouts() {
        return timeouts;
    }

    public Policies getPolicies() {
        return policies;
    }

    public Pipeline getPipeline() {
        return pipeline;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    public Tracing getTracing() {
        return tracing;
    }

    /** Where the engine keeps its conversations. */
    public enum StoreType {
        /** The application's {@code DataSource} bean when there is exactly one, else an embedded H2 file. */
        AUTO,
        /** An embedded H2 file at {@code parley.store.h2-file}. */
        H2_FILE,
        /** The application's {@code DataSource} bean; startup fails without one. */
        DATA_SOURCE,
        /** In memory: lost when the application stops. For tests and demos. */
        MEMORY
    }

    /** {@code parley.store.*}: where conversations are kept, unless the application has a ConversationStore bean. */
    public static class Store {
        /** Where conversations are kept. */
        private StoreType type = StoreType.AUTO;

        /** The embedded H2 database file (H2 adds .mv.db), created if missing; data/parley by default. */
        private Path h2File = Path.of("data", "parley");

        public StoreType getType() {
            return type;
        }

        public void setType(StoreType type) {
            this.type = type;
        }

        public Path getH2File() {
            return h2File;
        }

        public void setH2File(Path h2File) {
            this.h2File = h2File;
        }
    }

    /** {@code parley.timeouts.*}: the engine's leases and waits; each unset one keeps the engine's default. */
    public static class Timeouts {
        /** How long a stream's lock on its conversation lasts unless renewed. The engine's default is 30s. */
        private @Nullable Duration streamLease;

        /** How long a turn's claim on its message id lasts unless renewed. The engine's default is 10s. */
        private @Nullable Duration claimLease;

        /** How long a send waits for the same message id in progress elsewhere. The engine's default is 60s. */
        private @Nullable Duration replayWait;

        /** How long a stream may deliver nothing before it fails. The engine's default is 2m. */
        private @Nullable Duration streamIdle;

        public @Nullable Duration getStreamLease() {
            return streamLease;
        }

        public void setStreamLease(@Nullable Duration streamLease) {
            this.streamLease = streamLease;
        }

        public @Nullable Duration getClaimLease() {
            return claimLease;
        }

        public void setClaimLease(@Nullable Duration claimLease) {
            this.claimLease = claimLease;
        }

        public @Nullable Duration getReplayWait() {
            return replayWait;
        }

        public void setReplayWait(@Nullable Duration replayWait) {
            this.replayWait = replayWait;
        }

        public @Nullable Duration getStreamIdle() {
            return streamIdle;
        }

        public void setStreamIdle(@Nullable Duration streamIdle) {
            this.streamIdle = streamIdle;
        }

        boolean anySet() {
            return streamLease != null || claimLease != null || replayWait != null || streamIdle != null;
        }
    }

    /** {@code parley.models.<bean name>.*}: settings of one model found as a bean. */
    public static class Model {
        /** The model's context window in tokens, for a LangChain4j chat model (which declares none itself). */
        private @Nullable Integer contextWindow;

        public @Nullable Integer getContextWindow() {
            return contextWindow;
        }

        public void setContextWindow(@Nullable Integer contextWindow) {
            this.contextWindow = contextWindow;
        }
    }

    /** {@code parley.prices.<model>.*}: a model's credit price per thousand tokens, as exact decimals. */
    public static class Price {
        /** Credits per thousand input tokens, for example 0.15. */
        private String input = "0";

        /** Credits per thousand output tokens, for example 0.60. */
        private String output = "0";

        public String getInput() {
            return input;
        }

        public void setInput(String input) {
            this.input = input;
        }

        public String getOutput() {
            return output;
        }

        public void setOutput(String output) {
            this.output = output;
        }
    }

    /** {@code parley.policies.*}: how the application's Policy beans become rules. */
    public static class Policies {
        /** Whether the Policy and PolicyRule beans are applied to turns. */
        private boolean enabled = true;

        /** The action of a Policy bean's findings unless parley.policies.actions names its policy id. */
        private PolicyAction defaultAction = PolicyAction.LOG;

        /** The action of each policy's findings, by policy id (for example secrets=block). */
        private Map<String, PolicyAction> actions = new LinkedHashMap<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public PolicyAction getDefaultAction() {
            return defaultAction;
        }

        public void setDefaultAction(PolicyAction defaultAction) {
            this.defaultAction = defaultAction;
        }

        public Map<String, PolicyAction> getActions() {
            return actions;
        }

        public void setActions(Map<String, PolicyAction> actions) {
            this.actions = actions;
        }
    }

    /** {@code parley.pipeline.*}: where the application's PromptStage beans go into the default pipeline. */
    public static class Pipeline {
        /** The position PromptStage beans are inserted at, in their bean order. */
        private PromptPipeline.Position stagePosition = PromptPipeline.Position.BEFORE_CONTEXT;

        public PromptPipeline.Position getStagePosition() {
            return stagePosition;
        }

        public void setStagePosition(PromptPipeline.Position stagePosition) {
            this.stagePosition = stagePosition;
        }
    }

    /** {@code parley.metrics.*}: engine-micrometer, bound when the application has a MeterRegistry bean. */
    public static class Metrics {
        /** Whether Parley's meters are recorded on the application's MeterRegistry. */
        private boolean enabled = true;

        /** Whether the meters carry a workspace tag: one series per workspace, so mind the cardinality. */
        private boolean tagWorkspace;

        /**
         * Whether turns, stages and model calls are observed on the application's ObservationRegistry too, which
         * makes spans of them through its tracing bridge. Leave it off when engine-opentelemetry already traces.
         */
        private boolean observations;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public boolean isTagWorkspace() {
            return tagWorkspace;
        }

        public void setTagWorkspace(boolean tagWorkspace) {
            this.tagWorkspace = tagWorkspace;
        }

        public boolean isObservations() {
            return observations;
        }

        public void setObservations(boolean observations) {
            this.observations = observations;
        }
    }

    /** {@code parley.tracing.*}: engine-opentelemetry, bound when the application has an OpenTelemetry bean. */
    public static class Tracing {
        /** Whether turns, stages and model calls become OpenTelemetry spans. */
        private boolean enabled = true;

        /** Whether spans carry the prompt and reply text; off by default. */
        private boolean captureContent;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public boolean isCaptureContent() {
            return captureContent;
        }

        public void setCaptureContent(boolean captureContent) {
            this.captureContent = captureContent;
        }
    }
}
