package dev.parley.samples.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * Reads a {@link ServerConfig} from JSON and checks it. Strict: unknown fields, duplicate keys, trailing content and
 * values of the wrong type (a number where text is expected, or text where a number is) are refused, each problem
 * naming its JSON path. Every {@code ${NAME}} in a string value is replaced by the environment variable
 * {@code NAME}; an unset variable is a problem too.
 *
 * <p>{@code OPENAI_API_KEY} in the environment adds a model named {@value #ENVIRONMENT_MODEL} of the {@code openai}
 * provider, of global scope and free (priced at zero credits), without a line of configuration: {@code OPENAI_BASE_URL} is its base URL (any
 * OpenAI-compatible server; the provider's own when unset) and {@code PARLEY_MODEL} the provider's model name
 * ({@value #DEFAULT_ENVIRONMENT_MODEL_NAME} when unset). On the built-in demo configuration it is the default model; a
 * configuration file keeps its own {@code defaultModel}, and one that configures a model named
 * {@value #ENVIRONMENT_MODEL} itself gets nothing added. A blank variable counts as unset; {@code OPENAI_BASE_URL} or
 * {@code PARLEY_MODEL} without {@code OPENAI_API_KEY} is a problem, named by its variable. Thread safe.
 */
public final class ConfigLoader {
    /** The built-in demo configuration's class-path resource. */
    public static final String DEMO_RESOURCE = "/dev/parley/samples/server/demo-config.json";

    /** Environment variable of the API key that adds the {@value #ENVIRONMENT_MODEL} model. */
    public static final String OPENAI_API_KEY = "OPENAI_API_KEY";
    /** Environment variable of the {@value #ENVIRONMENT_MODEL} model's base URL. */
    public static final String OPENAI_BASE_URL = "OPENAI_BASE_URL";
    /** Environment variable of the {@value #ENVIRONMENT_MODEL} model's name at its provider. */
    public static final String PARLEY_MODEL = "PARLEY_MODEL";
    /** The name turns and conversations use for the model the environment adds. */
    public static final String ENVIRONMENT_MODEL = "openai";
    /** The provider's model name of the environment's model when {@code PARLEY_MODEL} is unset. */
    public static final String DEFAULT_ENVIRONMENT_MODEL_NAME = "gpt-4o-mini";

    /** The environment model's price: zero, so that its turns pass where credit accounts apply, and cost nothing. */
    private static final ServerConfig.Price FREE = new ServerConfig.Price("0", "0", null);

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final ObjectMapper mapper;
    private final Function<String, String> environment;

    /** A loader that reads {@code ${NAME}} from {@code environment} (a lookup returning null when unset). */
    public ConfigLoader(Function<String, String> environment) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.mapper = strictMapper();
    }

    /** A loader that reads {@code ${NAME}} from this process's environment. */
    public static ConfigLoader withSystemEnvironment() {
        return new ConfigLoader(System::getenv);
    }

    /**
     * The configuration in {@code file}.
     *
     * @throws ConfigException when the file cannot be read or the configuration is invalid
     */
    public ServerConfig load(Path file) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, List.of("file not found"));
        } catch (IOException e) {
            throw new ConfigException(source, List.of("cannot be read: " + e.getClass().getSimpleName()));
        }
        return read(source, bytes, false);
    }

    /** The built-in demo configuration. */
    public ServerConfig demo() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEMO_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("demo configuration " + DEMO_RESOURCE + " is missing");
            }
            return read("(built-in demo)", in.readAllBytes(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The configuration in {@code json}, named {@code source} in error messages.
     *
     * @throws ConfigException when it is invalid
     */
    public ServerConfig parse(String source, byte[] json) {
        return read(source, json, false);
    }

    private ServerConfig read(String source, byte[] json, boolean demo) {
        JsonNode tree;
        try {
            tree = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, List.of(describe(e)));
        } catch (IOException e) {
            throw new ConfigException(source, List.of("cannot be read: " + e.getClass().getSimpleName()));
        }
        if (tree == null || !tree.isObject()) {
            throw new ConfigException(source, List.of("$: must be a JSON object"));
        }
        List<String> problems = new ArrayList<>();
        JsonNode resolved = substitute(tree, "", problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(source, problems);
        }
        ServerConfig config;
        try {
            config = mapper.treeToValue(resolved, ServerConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, List.of(describe(e)));
        }
        problems.addAll(new ConfigValidator().check(config));
        if (!problems.isEmpty()) {
            throw new ConfigException(source, problems);
        }
        return withEnvironmentModel(source, config, demo);
    }

    /** {@code config} with the model {@code OPENAI_API_KEY} adds, if it is set; the default model on the demo. */
    private ServerConfig withEnvironmentModel(String source, ServerConfig config, boolean demo) {
        String apiKey = variable(OPENAI_API_KEY);
        String baseUrl = variable(OPENAI_BASE_URL);
        String modelName = variable(PARLEY_MODEL);
        if (apiKey == null) {
            List<String> problems = new ArrayList<>();
            for (String name : List.of(OPENAI_BASE_URL, PARLEY_MODEL)) {
                if (variable(name) != null) {
                    problems.add(name + ": is set, but " + OPENAI_API_KEY + " is not (a server that needs no key"
                            + " takes any value)");
                }
            }
            if (!problems.isEmpty()) {
                throw new ConfigException(source, problems);
            }
            return config;
        }
        if (config.models().stream().anyMatch(m -> ENVIRONMENT_MODEL.equals(m.name()))) {
            return config;
        }
        List<String> problems = new ConfigValidator().checkEnvironmentModel(apiKey, baseUrl, modelName);
        if (!problems.isEmpty()) {
            throw new ConfigException(source, problems);
        }
        List<ServerConfig.Model> models = new ArrayList<>(config.models());
        models.add(new ServerConfig.Model(ENVIRONMENT_MODEL, "openai", apiKey, baseUrl,
                modelName == null ? DEFAULT_ENVIRONMENT_MODEL_NAME : modelName, null, null, FREE, null));
        return new ServerConfig(config.organizations(), config.workspaces(), config.repositories(), config.boards(),
                config.users(), models, demo ? ENVIRONMENT_MODEL : config.defaultModel(), config.credits(),
                config.policies(), config.rateLimits(), config.brandVoices(), config.targetAudiences());
    }

    /** The environment variable {@code name}, or null when it is unset or blank. */
    private @Nullable String variable(String name) {
        String value = environment.apply(name);
        return value == null || value.isBlank() ? null : value;
    }

    private JsonNode substitute(JsonNode node, String path, List<String> problems) {
        if (node.isTextual()) {
            Matcher m = VARIABLE.matcher(node.textValue());
            if (!m.find()) {
                return node;
            }
            StringBuilder out = new StringBuilder();
            do {
                String value = environment.apply(m.group(1));
                if (value == null) {
                    problems.add(path + ": environment variable " + m.group(1) + " is not set");
                    value = "";
                }
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            } while (m.find());
            m.appendTail(out);
            return TextNode.valueOf(out.toString());
        }
        if (node.isObject()) {
            ObjectNode copy = mapper.createObjectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                copy.set(field.getKey(), substitute(field.getValue(), child, problems));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = mapper.createArrayNode();
            for (int i = 0; i < node.size(); i++) {
                copy.add(substitute(node.get(i), path + "[" + i + "]", problems));
            }
            return copy;
        }
        return node;
    }

    /** A Jackson failure as {@code path: problem}, without echoing the file's values. */
    static String describe(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return path(u) + ": unknown field";
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            Class<?> target = m instanceof MismatchedInputException mi ? mi.getTargetType() : null;
            String expected = target == null ? "of another type" : typeName(target);
            return path(m) + ": must be " + expected;
        }
        String message = e.getOriginalMessage();
        int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
        int column = e.getLocation() == null ? -1 : e.getLocation().getColumnNr();
        String where = line < 0 ? "$" : "line " + line + ", column " + column;
        if (message != null && message.startsWith("Duplicate field")) {
            return where + ": duplicate field";
        }
        return where + ": not valid JSON";
    }

    private static String typeName(Class<?> type) {
        if (type == String.class) {
            return "a string";
        }
        if (type == Long.class || type == Integer.class || type == long.class || type == int.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (List.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? "$" : sb.toString();
    }

    /** The strict mapper the server reads configuration and request bodies with. */
    public static ObjectMapper strictMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(JsonParser.Feature.ALLOW_COMMENTS)
                .build();
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Integer)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return mapper;
    }
}
