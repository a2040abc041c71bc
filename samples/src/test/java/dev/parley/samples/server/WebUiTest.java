package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser page's files and endpoints over plain HTTP: content types, the Content-Security-Policy, 404 for any
 * other file, the public configuration (tokens only in demo mode) and the signed-in user's workspaces.
 */
class WebUiTest {
    static final String DEMO_CONFIG = "/dev/parley/samples/server/demo-config.json";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path data;
    @TempDir
    static Path demoData;

    static TestServer http;
    static TestServer demo;

    @BeforeAll
    static void start() {
        http = TestServer.start(WorkspaceApiTest.CONFIG, data, Map.of());
        demo = TestServer.start(DEMO_CONFIG, demoData, Map.of(), ParleyServer.Settings::withDemoSignIn);
    }

    @AfterAll
    static void stop() {
        http.close();
        demo.close();
    }

    static HttpResponse<String> get(TestServer server, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The content type, its spaces removed and in lower case: Jetty may write it either way. */
    static String type(HttpResponse<?> r) {
        return header(r, "Content-Type").replace(" ", "").toLowerCase(java.util.Locale.ROOT);
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse("");
    }

    @Test
    void thePageIsServedAtTheRootAsHtmlWithAStrictPolicyAndNoInlineScriptOrOutsideResource() throws Exception {
        HttpResponse<String> r = get(http, "/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(type(r)).isEqualTo("text/html;charset=utf-8");
        String csp = header(r, "Content-Security-Policy");
        assertThat(csp).startsWith("default-src 'self'").contains("script-src 'self'", "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:", "*");
        assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
        String html = r.body();
        assertThat(html).contains("<script src=\"/web/app.js\"", "<script src=\"/web/markdown.js\"",
                "href=\"/web/app.css\"");
        assertThat(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(html).find()).as("an inline script").isFalse();
        assertThat(html).as("inline styles and handlers").doesNotContain("<style", " style=", " onclick=",
                " onload=");
        assertThat(html).as("anything from another host").doesNotContain("http://", "https://", "//cdn");
    }

    @Test
    void eachFileOfThePageHasItsContentTypeAndThePolicy() throws Exception {
        Map<String, String> types = Map.of("/web/app.js", "text/javascript;charset=utf-8",
                "/web/markdown.js", "text/javascript;charset=utf-8", "/web/app.css", "text/css;charset=utf-8");
        for (Map.Entry<String, String> e : types.entrySet()) {
            HttpResponse<String> r = get(http, e.getKey());
            assertThat(r.statusCode()).as(e.getKey()).isEqualTo(200);
            assertThat(type(r)).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(header(r, "Content-Security-Policy")).as(e.getKey()).isEqualTo(WebUi.CSP);
            assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(r.body()).as(e.getKey()).isNotBlank().doesNotContain("http://", "https://");
        }
        assertThat(get(http, "/web/app.js").body()).as("model text never goes in as HTML")
                .doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
        assertThat(get(http, "/web/markdown.js").body())
                .doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
    }

    @Test
    void anyOtherFileIs404() throws Exception {
        for (String path : List.of("/web/nope.js", "/web/index.html", "/web/WebUi.class", "/web/..%2FWebUi.class",
                "/web/%2e%2e%2Fdemo-config.json", "/index.html", "/app.js", "/web/")) {
            HttpResponse<String> r = get(http, path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).doesNotContain("t-alice", "ParleyMarkdown");
        }
    }

    @Test
    void outsideDemoModeTheConfigurationTellsTheModelsAndNoUserOrToken() throws Exception {
        HttpResponse<String> r = get(http, WebUi.CONFIG_PATH);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(header(r, "Content-Type")).startsWith("application/json");
        JsonNode config = MAPPER.readTree(r.body());
        assertThat(config.get("demo").asBoolean()).isFalse();
        assertThat(names(config.get("models"))).containsExactly("demo", "slow", "priced");
        assertThat(config.get("defaultModel").asText()).isEqualTo("demo");
        assertThat(config.get("demoUsers")).isEmpty();
        assertThat(r.body()).doesNotContain("t-olivia", "t-walter", "t-alice", "t-carol", "t-penny", "t-bob", "t-gina",
                "olivia", "token");
    }

    @Test
    void inDemoModeTheConfigurationListsTheDemoUsersWithTheirTokens() throws Exception {
        JsonNode config = MAPPER.readTree(get(demo, WebUi.CONFIG_PATH).body());

        assertThat(config.get("demo").asBoolean()).isTrue();
        assertThat(names(config.get("models"))).containsExactly("demo");
        List<String> users = new ArrayList<>();
        config.get("demoUsers").forEach(u -> users.add(u.get("id").asText() + "=" + u.get("token").asText()));
        assertThat(users).containsExactly("olivia=demo-admin-token", "walter=demo-workspace-admin-token",
                "alice=demo-alice-token", "bob=demo-bob-token");
        assertThat(config.get("demoUsers").get(0).get("role").asText()).isEqualTo("organization admin");
        assertThat(config.get("demoUsers").toString()).as("API keys are not for the page")
                .doesNotContain("demo-alice-key");
        TestServer.Response session = demo.get(WebUi.SESSION_PATH, config.get("demoUsers").get(2).get("token")
                .asText());
        assertThat(session.status()).as("a listed token signs in").isEqualTo(200);
        assertThat(session.json().get("userId").asText()).isEqualTo("alice");
    }

    @Test
    void theSessionTellsTheTokensUserAndTheWorkspacesItHasAClaimOn() {
        JsonNode alice = http.get(WebUi.SESSION_PATH, "t-alice").json();
        assertThat(alice.get("userId").asText()).isEqualTo("alice");
        assertThat(alice.get("organizationId").asText()).isEqualTo("acme");
        assertThat(alice.get("organizationAdmin").asBoolean()).isFalse();
        assertThat(workspaces(alice)).containsExactly("support:member");

        assertThat(workspaces(http.get(WebUi.SESSION_PATH, "t-walter").json())).containsExactly("support:admin");
        JsonNode olivia = http.get(WebUi.SESSION_PATH, "t-olivia").json();
        assertThat(olivia.get("organizationAdmin").asBoolean()).isTrue();
        assertThat(workspaces(olivia)).as("every workspace of her organization, not globex's")
                .containsExactly("support:organizationAdmin", "sales:organizationAdmin");
        assertThat(workspaces(http.get(WebUi.SESSION_PATH, "t-gina").json())).containsExactly("lab:member");
    }

    @Test
    void theSessionWithoutAKnownTokenIs401() {
        for (String token : new String[] {null, "t-nobody"}) {
            TestServer.Response r = http.get(WebUi.SESSION_PATH, token);
            assertThat(r.status()).as(String.valueOf(token)).isEqualTo(401);
            assertThat(r.json().get("success").asBoolean()).isFalse();
            assertThat(r.message()).isNotBlank();
        }
    }

    @Test
    void theHealthAndDescriptionRoutesStayAsTheyWere() {
        assertThat(http.get("/health", null).json().get("status").asText()).isEqualTo("UP");
        assertThat(http.get(OpenApi.PATH, null).json().at("/paths/~1ui~1session/get/security/0").has("bearerToken"))
                .isTrue();
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }

    private static List<String> workspaces(JsonNode session) {
        List<String> list = new ArrayList<>();
        session.get("workspaces").forEach(w -> list.add(w.get("id").asText() + ":" + w.get("role").asText()));
        return list;
    }
}
