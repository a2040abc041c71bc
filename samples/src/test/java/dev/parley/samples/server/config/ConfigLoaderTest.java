package dev.parley.samples.server.config;

import dev.parley.samples.server.ServeCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    private static final String VALID = """
            {
              "organizations": [{"id": "acme"}],
              "workspaces": [{"id": "support", "organizationId": "acme", "legacyCustomerId": 7},
                             {"id": "sales", "organizationId": "acme"}],
              "repositories": [{"id": "handbook", "organizationId": "acme", "workspaceId": "support"}],
              "users": [{"id": "alice", "organizationId": "acme", "token": "t-alice",
                         "workspaces": {"support": "member"}}],
              "models": [{"name": "gpt", "provider": "openai", "apiKey": "${KEY}", "baseUrl": "http://localhost:1/v1"}]
            }
            """;

    private final ConfigLoader loader = new ConfigLoader(Map.of("KEY", "sk-from-env")::get);

    @TempDir
    Path dir;

    private ServerConfig parse(String json) {
        return loader.parse("test.json", json.getBytes(StandardCharsets.UTF_8));
    }

    private String problemsOf(String json) {
        try {
            parse(json);
        } catch (ConfigException e) {
            return String.join("\n", e.problems());
        }
        throw new AssertionError("the configuration was accepted");
    }

    @Test
    void aValidFileIsReadWithItsEnvironmentVariablesSubstituted() {
        ServerConfig config = parse(VALID);
        assertThat(config.workspaces()).hasSize(2);
        assertThat(config.workspaces().get(0).legacyCustomerId()).isEqualTo(7L);
        assertThat(config.models().get(0).apiKey()).isEqualTo("sk-from-env");
        assertThat(config.users().get(0).toString()).doesNotContain("t-alice");
    }

    @Test
    void brandVoicesAndTargetAudiencesAreCheckedByPath() {
        String json = VALID.replace("\"models\":", """
                "brandVoices": [{"id": "friendly", "organizationId": "acme", "text": "Warm."},
                                {"id": "friendly", "organizationId": "acme", "text": "Again."},
                                {"id": "loud", "organizationId": "initech", "text": "LOUD"}],
                "targetAudiences": [{"id": "devs", "organizationId": "acme", "text": "  "}],
                "models":""");

        assertThat(problemsOf(json))
                .contains("brandVoices[1].id: duplicates another id of the organization")
                .contains("brandVoices[2].organizationId: ")
                .contains("targetAudiences[0].text: must not be blank")
                .doesNotContain("brandVoices[0]");
    }

    @Test
    void theBuiltInDemoConfigurationIsValid() {
        ServerConfig demo = new ConfigLoader(name -> null).demo();
        assertThat(demo.organizations()).hasSize(1);
        assertThat(demo.workspaces()).hasSize(2);
        assertThat(demo.repositories()).hasSize(1);
        assertThat(demo.boards()).singleElement().satisfies(b -> assertThat(b.chats()).hasSize(1));
        assertThat(demo.users()).extracting(ServerConfig.User::token).doesNotContainNull().hasSize(4);
        assertThat(demo.models()).extracting(ServerConfig.Model::provider).containsExactly("demo");
        assertThat(demo.credits()).isNotEmpty();
        assertThat(demo.policies()).isNotEmpty();
    }

    @Test
    void aBlankIdIsNamedByItsPath() {
        assertThat(problemsOf(VALID.replace("{\"id\": \"sales\"", "{\"id\": \" \"")))
                .isEqualTo("workspaces[1].id: must not be blank");
    }

    @Test
    void anUnknownFieldIsRefusedByItsPath() {
        assertThat(problemsOf(VALID.replace("\"legacyCustomerId\": 7", "\"legacyCustomerId\": 7, \"colour\": \"red\"")))
                .isEqualTo("workspaces[0].colour: unknown field");
        assertThat(problemsOf(VALID.replace("\"organizations\"", "\"tenants\": [], \"organizations\"")))
                .isEqualTo("tenants: unknown field");
    }

    @Test
    void aValueOfTheWrongTypeIsNamedByItsPath() {
        assertThat(problemsOf(VALID.replace("\"legacyCustomerId\": 7", "\"legacyCustomerId\": \"7\"")))
                .isEqualTo("workspaces[0].legacyCustomerId: must be a whole number");
        assertThat(problemsOf(VALID.replace("\"legacyCustomerId\": 7", "\"legacyCustomerId\": 7.5")))
                .isEqualTo("workspaces[0].legacyCustomerId: must be a whole number");
        assertThat(problemsOf(VALID.replace("{\"id\": \"acme\"}", "{\"id\": 5}")))
                .isEqualTo("organizations[0].id: must be a string");
    }

    @Test
    void anUnsetEnvironmentVariableIsNamedByThePathThatUsesIt() {
        assertThat(problemsOf(VALID.replace("${KEY}", "${MISSING_KEY}")))
                .isEqualTo("models[0].apiKey: environment variable MISSING_KEY is not set");
    }

    @Test
    void referencesToUnknownOrganizationsAndWorkspacesAreNamed() {
        assertThat(problemsOf(VALID.replace("\"workspaceId\": \"support\"", "\"workspaceId\": \"nowhere\"")))
                .isEqualTo("repositories[0].workspaceId: no workspace of \"acme\" has the id \"nowhere\"");
        assertThat(problemsOf(VALID.replace("{\"support\": \"member\"}", "{\"support\": \"owner\"}")))
                .isEqualTo("users[0].workspaces.support: must be one of admin, member");
    }

    @Test
    void everyProblemOfAFileIsReportedAtOnce() {
        String json = VALID.replace("\"provider\": \"openai\"", "\"provider\": \"acme-ai\"")
                .replace("\"token\": \"t-alice\"", "\"token\": \"\"");
        assertThat(problemsOf(json).lines()).containsExactly(
                "users[0].token: must not be blank",
                "models[0].provider: must be one of demo, openai");
    }

    @Test
    void malformedJsonAndDuplicateFieldsAreRefused() {
        assertThat(problemsOf("{\"organizations\": [")).contains("not valid JSON");
        assertThat(problemsOf("{\"organizations\": [], \"organizations\": []}")).contains("duplicate field");
        assertThat(problemsOf("[]")).isEqualTo("$: must be a JSON object");
    }

    @Test
    void aPriceThatIsNotADecimalIsNamed() {
        String json = VALID.replace("\"baseUrl\": \"http://localhost:1/v1\"",
                "\"price\": {\"perThousandInput\": \"cheap\", \"perThousandOutput\": \"0.6\"}");
        assertThat(problemsOf(json)).isEqualTo("models[0].price.perThousandInput: must be a decimal number such as 0.15");
    }

    @Test
    void serveExitsWith2OnAnInvalidFileWithoutStarting() throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, VALID.replace("{\"id\": \"sales\"", "{\"id\": \"\""));
        int exit = new CommandLine(new ServeCommand()).execute("--config", file.toString(), "--port", "0",
                "--data", dir.resolve("data").toString());
        assertThat(exit).isEqualTo(2);
        assertThat(dir.resolve("data")).doesNotExist();
    }

    private static ServerConfig.Model model(ServerConfig config, String name) {
        return config.models().stream().filter(m -> name.equals(m.name())).findFirst()
                .orElseThrow(() -> new AssertionError("no model " + name + " in " + config.models()));
    }

    private static String problemsOf(ConfigLoader loader, String json) {
        try {
            loader.parse("test.json", json.getBytes(StandardCharsets.UTF_8));
        } catch (ConfigException e) {
            return String.join("\n", e.problems());
        }
        throw new AssertionError("the configuration was accepted");
    }

    @Test
    void openAiApiKeyInTheEnvironmentAddsAnOpenAiModelToAFileWhichKeepsItsDefault() {
        ConfigLoader withKey = new ConfigLoader(Map.of("KEY", "sk-from-env", "OPENAI_API_KEY", "sk-env-only",
                "OPENAI_BASE_URL", "http://127.0.0.1:11434/v1", "PARLEY_MODEL", "llama3.1:8b")::get);
        ServerConfig config = withKey.parse("test.json", VALID.replace("\"models\":",
                "\"defaultModel\": \"gpt\", \"models\":").getBytes(StandardCharsets.UTF_8));

        assertThat(config.models()).extracting(ServerConfig.Model::name).containsExactly("gpt", "openai");
        ServerConfig.Model added = model(config, "openai");
        assertThat(added.provider()).isEqualTo("openai");
        assertThat(added.apiKey()).isEqualTo("sk-env-only");
        assertThat(added.baseUrl()).isEqualTo("http://127.0.0.1:11434/v1");
        assertThat(added.modelName()).isEqualTo("llama3.1:8b");
        assertThat(added.scope()).as("of global scope").isNull();
        assertThat(added.price()).as("free").isEqualTo(new ServerConfig.Price("0", "0", null));
        assertThat(config.defaultModel()).isEqualTo("gpt");
    }

    @Test
    void onTheBuiltInDemoTheEnvironmentsModelIsTheDefaultAndWithoutAKeyNothingIsAdded() {
        ServerConfig demo = new ConfigLoader(Map.of("OPENAI_API_KEY", "sk-env-only")::get).demo();
        assertThat(demo.models()).extracting(ServerConfig.Model::name).containsExactly("demo", "openai");
        assertThat(demo.defaultModel()).isEqualTo("openai");
        ServerConfig.Model added = model(demo, "openai");
        assertThat(added.baseUrl()).as("the provider's own").isNull();
        assertThat(added.modelName()).isEqualTo(ConfigLoader.DEFAULT_ENVIRONMENT_MODEL_NAME);

        ServerConfig blank = new ConfigLoader(Map.of("OPENAI_API_KEY", " ", "PARLEY_MODEL", "")::get).demo();
        assertThat(blank.models()).extracting(ServerConfig.Model::name).as("blank is unset").containsExactly("demo");
        assertThat(blank.defaultModel()).isEqualTo("demo");
    }

    @Test
    void aFileThatConfiguresAModelNamedOpenAiGetsNoneAdded() {
        ConfigLoader withKey = new ConfigLoader(Map.of("KEY", "sk-from-env", "OPENAI_API_KEY", "sk-env-only",
                "OPENAI_BASE_URL", "not a url")::get);
        ServerConfig config = withKey.parse("test.json",
                VALID.replace("\"name\": \"gpt\"", "\"name\": \"openai\"").getBytes(StandardCharsets.UTF_8));

        assertThat(config.models()).singleElement().satisfies(m -> {
            assertThat(m.apiKey()).isEqualTo("sk-from-env");
            assertThat(m.baseUrl()).isEqualTo("http://localhost:1/v1");
        });
    }

    @Test
    void badEnvironmentModelSettingsAreNamedByTheirVariableWithoutQuotingTheKey() {
        String badUrl = problemsOf(new ConfigLoader(Map.of("KEY", "k", "OPENAI_API_KEY", "sk-1",
                "OPENAI_BASE_URL", "ftp://models.example/v1")::get), VALID);
        assertThat(badUrl).isEqualTo("OPENAI_BASE_URL: must be an http or https URL");

        String badKey = problemsOf(new ConfigLoader(Map.of("KEY", "k", "OPENAI_API_KEY", "sk secret 42")::get), VALID);
        assertThat(badKey).startsWith("OPENAI_API_KEY: ").doesNotContain("secret 42");

        String noKey = problemsOf(new ConfigLoader(Map.of("KEY", "k", "OPENAI_BASE_URL", "http://127.0.0.1:1/v1",
                "PARLEY_MODEL", "llama3")::get), VALID);
        assertThat(noKey.lines()).hasSize(2).allSatisfy(line -> assertThat(line).contains("OPENAI_API_KEY is not"));
        assertThat(noKey).startsWith("OPENAI_BASE_URL: ").contains("\nPARLEY_MODEL: ");
    }
}
