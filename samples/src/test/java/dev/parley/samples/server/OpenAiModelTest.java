package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.samples.server.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration's {@code openai} provider end to end: the real LangChain4j OpenAI adapter, pointed at a local
 * OpenAI-compatible server ({@link FakeOpenAi}), behind each of the three APIs, with and without streaming.
 */
class OpenAiModelTest {
    private static final String CONFIG = "/dev/parley/samples/server/openai-config.json";
    private static final String WS = "/api/v1/workspaces/support/conversations";
    /** 31 input tokens at 0.15 and 9 output tokens at 0.60 per thousand. */
    private static final BigDecimal TURN_PRICE = new BigDecimal("0.01005");

    @TempDir
    static Path data;

    static FakeOpenAi openAi;
    static TestServer http;

    @BeforeAll
    static void start() {
        openAi = new FakeOpenAi();
        http = TestServer.start(CONFIG, data, Map.of("FAKE_OPENAI_KEY", "sk-fake-123", "FAKE_OPENAI_URL",
                openAi.baseUrl()));
    }

    @AfterAll
    static void stop() {
        http.close();
        openAi.close();
    }

    @Test
    void aRepositoryStylePromptIsAnsweredByTheProviderWithItsReportedTokensAndTheHistory() {
        String id = http.create("t-alice", "handbook");
        TestServer.Response first = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"My favourite number is 444.\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        JsonNode body = first.exactJson();
        assertThat(body.get("reply").asText()).isEqualTo(FakeOpenAi.reply("My favourite number is 444."));
        assertThat(body.get("model").asText()).isEqualTo("cloud");
        assertThat(body.get("tokensIn").asLong()).isEqualTo(FakeOpenAi.PROMPT_TOKENS);
        assertThat(body.get("tokensOut").asLong()).isEqualTo(FakeOpenAi.COMPLETION_TOKENS);
        assertThat(body.get("creditsUsed").decimalValue()).isEqualByComparingTo(TURN_PRICE);
        FakeOpenAi.Received request = openAi.last();
        assertThat(request.authorization()).isEqualTo("Bearer sk-fake-123");
        assertThat(request.body().get("model").asText()).as("the provider's model name").isEqualTo("gpt-4o-mini");
        assertThat(request.body().path("stream").asBoolean()).isFalse();
        assertThat(request.messages()).containsExactly("user: My favourite number is 444.");

        TestServer.Response second = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"What is it?\"}");
        assertThat(second.json().get("totalTokensIn").asLong()).isEqualTo(2L * FakeOpenAi.PROMPT_TOKENS);
        assertThat(openAi.last().messages()).containsExactly(
                "user: My favourite number is 444.",
                "assistant: " + FakeOpenAi.reply("My favourite number is 444."),
                "user: What is it?");
    }

    @Test
    void aWorkspaceStyleMessageAndItsStreamAreAnsweredByTheProvider() throws Exception {
        String id = http.post(WS, "t-alice", "{\"personality\":\"Be brief.\"}").json().get("id").asText();
        TestServer.Response sent = http.post(WS + "/" + id + "/messages", "t-alice",
                "{\"id\":\"m-1\",\"text\":\"Hello there\",\"additionalContext\":[{\"content\":\"It is Tuesday.\"}]}");

        assertThat(sent.status()).as(sent.body()).isEqualTo(200);
        assertThat(sent.json().get("text").asText()).isEqualTo(FakeOpenAi.reply("Hello there"));
        assertThat(sent.json().get("tokensIn").asLong()).isEqualTo(FakeOpenAi.PROMPT_TOKENS);
        assertThat(sent.json().get("tokensOut").asLong()).isEqualTo(FakeOpenAi.COMPLETION_TOKENS);
        assertThat(sent.json().get("modelName").asText()).isEqualTo("cloud");
        assertThat(openAi.last().messages()).first().asString().startsWith("system: ").contains("Be brief.");
        assertThat(openAi.last().messages()).contains("system: It is Tuesday.").last()
                .isEqualTo("user: Hello there");

        HttpResponse<InputStream> r = http.open(WS + "/" + id + "/message-streams", "t-alice",
                "{\"id\":\"m-2\",\"text\":\"Stream this\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        List<SseEvents.Event> events;
        try (SseEvents sse = new SseEvents(r.body())) {
            events = sse.rest();
        }
        String expected = FakeOpenAi.reply("Stream this");
        List<SseEvents.Event> deltas = events.subList(0, events.size() - 1);
        assertThat(deltas).extracting(SseEvents.Event::name).containsOnly("delta");
        assertThat(deltas.stream().map(e -> e.data().get("text").asText()).reduce("", String::concat))
                .isEqualTo(expected);
        SseEvents.Event last = events.get(events.size() - 1);
        assertThat(last.name()).isEqualTo("final");
        assertThat(last.data().get("text").asText()).isEqualTo(expected);
        assertThat(last.data().get("tokensIn").asLong()).isEqualTo(FakeOpenAi.PROMPT_TOKENS);
        assertThat(last.data().get("tokensOut").asLong()).isEqualTo(FakeOpenAi.COMPLETION_TOKENS);

        FakeOpenAi.Received streamed = openAi.last();
        assertThat(streamed.body().path("stream").asBoolean()).isTrue();
        assertThat(streamed.body().get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(streamed.messages()).doesNotContain("system: It is Tuesday.")
                .containsSubsequence("user: Hello there", "assistant: " + FakeOpenAi.reply("Hello there"),
                        "user: Stream this");
    }

    @Test
    void anAssistantStylePromptAndItsStreamAreAnsweredByTheProviderAndChargedForItsTokens() throws Exception {
        String path = "/api/conversation/openai-1?api_key=k-alice&board_id=helpdesk&chat_id=welcome";
        TestServer.Response first = http.post(path, null, "{\"prompt\":\"First question\","
                + "\"additional_context\":\"Only for now\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        JsonNode body = first.exactJson();
        assertThat(body.get("text").asText()).isEqualTo(FakeOpenAi.reply("First question"));
        assertThat(body.get("credits_used").decimalValue()).isEqualByComparingTo(TURN_PRICE);
        assertThat(openAi.last().messages()).containsExactly("system: Only for now", "user: First question");

        HttpResponse<InputStream> r = http.open(path, null, "{\"prompt\":\"Second question\",\"streaming\":\"active\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        List<SseEvents.Event> events;
        try (SseEvents sse = new SseEvents(r.body())) {
            events = sse.rest();
        }
        SseEvents.Event last = events.get(events.size() - 1);
        assertThat(last.name()).isEqualTo("final");
        assertThat(last.data().get("text").asText()).isEqualTo(FakeOpenAi.reply("Second question"));
        assertThat(new BigDecimal(last.data().get("credits_used").asText())).isEqualByComparingTo(TURN_PRICE);
        assertThat(new BigDecimal(last.data().get("credits_remaining").asText())).isEqualByComparingTo(
                body.get("credits_remaining").decimalValue().subtract(TURN_PRICE));

        FakeOpenAi.Received streamed = openAi.last();
        assertThat(streamed.body().path("stream").asBoolean()).isTrue();
        assertThat(streamed.messages()).containsExactly("user: First question",
                "assistant: " + FakeOpenAi.reply("First question"), "user: Second question");
    }

    @Test
    void openAiApiKeyInTheEnvironmentServesTheBuiltInDemoThroughTheProviderWithoutAConfigurationFile(
            @TempDir Path envData) {
        Map<String, String> env = Map.of("OPENAI_API_KEY", "sk-env-456", "OPENAI_BASE_URL", openAi.baseUrl(),
                "PARLEY_MODEL", "gpt-env-model");
        try (TestServer demo = TestServer.start(new ConfigLoader(env::get).demo(), envData)) {
            String id = demo.create("demo-alice-token", "handbook");
            TestServer.Response r = demo.post("/conversation/" + id + "/prompt", "demo-alice-token",
                    "{\"prompt\":\"Hello from the environment\"}");

            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().get("reply").asText()).isEqualTo(FakeOpenAi.reply("Hello from the environment"));
            assertThat(r.json().get("model").asText()).isEqualTo("openai");
            assertThat(r.json().get("tokensIn").asLong()).isEqualTo(FakeOpenAi.PROMPT_TOKENS);
            assertThat(r.exactJson().get("creditsUsed").decimalValue()).isEqualByComparingTo(BigDecimal.ZERO);
            FakeOpenAi.Received request = openAi.last();
            assertThat(request.authorization()).isEqualTo("Bearer sk-env-456");
            assertThat(request.body().get("model").asText()).isEqualTo("gpt-env-model");
        }
    }
}
