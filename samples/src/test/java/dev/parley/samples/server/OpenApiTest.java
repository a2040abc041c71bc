package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /openapi.json}: an OpenAPI 3.1 document that describes exactly the routes the server registers, whose
 * request schemas require exactly the fields the server refuses to go without.
 */
class OpenApiTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String WS = "/api/v1/workspaces/{ws}/conversations";

    @TempDir
    static Path data;

    static TestServer http;
    static JsonNode doc;

    @BeforeAll
    static void start() {
        http = TestServer.start(AssistantApiTest.CONFIG, data, Map.of());
        TestServer.Response r = http.get(OpenApi.PATH, null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("application/json");
        doc = r.json();
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    @Test
    void theDocumentIsOpenApi31WithBothSecuritySchemesAndResolvableReferences() {
        assertThat(doc.get("openapi").asText()).isEqualTo("3.1.0");
        assertThat(doc.at("/info/title").asText()).isNotBlank();
        assertThat(doc.at("/components/securitySchemes/bearerToken/scheme").asText()).isEqualTo("bearer");
        assertThat(doc.at("/components/securitySchemes/apiKey/in").asText()).isEqualTo("query");
        assertThat(doc.at("/components/securitySchemes/apiKey/name").asText()).isEqualTo("api_key");
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(ref).startsWith("#/");
            assertThat(doc.at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
        }
        assertThat(doc.at("/paths/~1api~1conversation~1{id}/post/security/0").has("apiKey")).isTrue();
        assertThat(doc.at("/paths/~1conversation/post/security/0").has("bearerToken")).isTrue();
    }

    @Test
    void everyRegisteredRouteIsDescribedAndNothingElse() {
        Set<String> described = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(m -> described.add(m.toUpperCase(Locale.ROOT) + " "
                    + path.getKey()));
        }
        assertThat(described).isEqualTo(new TreeSet<>(http.server.routes()));
        assertThat(described).contains("POST /api/conversation/{id}", "POST " + WS + "/{id}/message-streams",
                "POST /conversation/{id}/prompt", "GET /openapi.json");
    }

    @Test
    void aWorkspaceReplyIsTheMessageWithTheTurnsCreditsAsNullableDecimalStrings() {
        assertThat(doc.at("/paths/~1api~1v1~1workspaces~1{ws}~1conversations~1{id}~1messages/post/responses/200"
                + "/content/application~1json/schema/$ref").asText()).endsWith("/WorkspaceReply");
        JsonNode reply = doc.at("/components/schemas/WorkspaceReply/properties");
        for (String field : List.of("creditsUsed", "creditsRemaining")) {
            assertThat(reply.at("/" + field + "/type")).as(field)
                    .containsExactly(MAPPER.valueToTree("string"), MAPPER.valueToTree("null"));
        }
        assertThat(doc.at("/components/schemas/WorkspaceMessage/properties").has("creditsUsed"))
                .as("a listed message has no credits").isFalse();
    }

    @Test
    void everyOperationDocumentsTheErrorShapeOfItsApi() {
        assertThat(doc.at("/paths/~1conversation~1{id}~1prompt/post/responses/404/content/application~1json/schema/$ref")
                .asText()).endsWith("/RepositoryError");
        assertThat(doc.at("/paths/~1api~1v1~1workspaces~1{ws}~1conversations/post/responses/403/content"
                + "/application~1json/schema/$ref").asText()).endsWith("/WorkspaceError");
        assertThat(doc.at("/paths/~1api~1conversation~1{id}/post/responses/402/content/application~1json/schema/$ref")
                .asText()).endsWith("/RepositoryError");

        TestServer.Response workspaceError = http.get("/api/v1/workspaces/sales/conversations", "t-alice");
        assertThat(fieldNames(workspaceError.json())).isEqualTo(
                requiredOf(doc.at("/components/schemas/WorkspaceError")));
        TestServer.Response repositoryError = http.get("/conversation/nope/messages", "t-alice");
        assertThat(fieldNames(repositoryError.json())).isEqualTo(
                requiredOf(doc.at("/components/schemas/RepositoryError")));
    }

    @Test
    void theRequiredFieldsOfEachRequestBodyAreWhatTheServerRefusesToGoWithout() {
        String repoConversation = http.create("t-alice", "handbook");
        TestServer.Response created = http.post("/api/v1/workspaces/support/conversations", "t-alice", "{}");
        String wsConversation = created.json().get("id").asText();
        Map<String, String> urls = Map.of(
                "POST /conversation", "/conversation",
                "POST /conversation/{id}/prompt", "/conversation/" + repoConversation + "/prompt",
                "PATCH " + WS + "/{id}", "/api/v1/workspaces/support/conversations/" + wsConversation,
                "POST " + WS + "/{id}/messages", "/api/v1/workspaces/support/conversations/" + wsConversation
                        + "/messages",
                "POST " + WS + "/{id}/message-streams", "/api/v1/workspaces/support/conversations/" + wsConversation
                        + "/message-streams",
                "POST /api/conversation/{id}", "/api/conversation/openapi-check?api_key=k-alice&board_id=helpdesk"
                        + "&chat_id=welcome");
        Set<String> checked = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> op = ops.next();
                JsonNode body = op.getValue().path("requestBody");
                if (!body.path("required").asBoolean()) {
                    continue;
                }
                String route = op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey();
                String url = urls.get(route);
                assertThat(url).as("a URL to try " + route + " on").isNotNull();
                checkRequired(route, op.getKey(), url, body.at("/content/application~1json/schema"));
                checked.add(route);
            }
        }
        assertThat(checked).isEqualTo(urls.keySet());
    }

    /** The minimal body succeeds; without any one required field, or with an undocumented one, it is a 400 naming it. */
    private static void checkRequired(String route, String method, String url, JsonNode schema) {
        Set<String> required = requiredOf(schema);
        assertThat(schema.path("additionalProperties").asBoolean(true)).as(route).isFalse();
        if (required.isEmpty()) {
            assertThat(schema.path("minProperties").asInt()).as(route).isEqualTo(1);
            TestServer.Response empty = send(method, url, "{}");
            assertThat(empty.status()).as(route + " with no field").isEqualTo(400);
            ObjectNode one = MAPPER.createObjectNode();
            one.put(schema.get("properties").fieldNames().next(), "set");
            assertThat(send(method, url, one.toString()).status()).as(route + " " + one).isLessThan(300);
            return;
        }
        ObjectNode minimal = minimal(schema, required);
        TestServer.Response ok = send(method, url, minimal.toString());
        assertThat(ok.status()).as(route + " " + minimal + ": " + ok.body()).isBetween(200, 299);
        for (String field : required) {
            ObjectNode without = minimal(schema, required);
            without.remove(field);
            TestServer.Response r = send(method, url, without.toString());
            assertThat(r.status()).as(route + " without " + field).isEqualTo(400);
            assertThat(r.message()).as(route + " without " + field).startsWith(field + ": ");
        }
        ObjectNode extra = minimal(schema, required);
        extra.put("undocumented", 1);
        TestServer.Response r = send(method, url, extra.toString());
        assertThat(r.status()).as(route + " with an undocumented field").isEqualTo(400);
        assertThat(r.message()).startsWith("undocumented: ");
    }

    private static ObjectNode minimal(JsonNode schema, Set<String> required) {
        ObjectNode body = MAPPER.createObjectNode();
        for (String field : required) {
            JsonNode property = schema.at("/properties/" + field);
            assertThat(property.path("type").asText()).as(field).isEqualTo("string");
            body.put(field, field.equals("id") ? UUID.randomUUID().toString()
                    : property.path("examples").path(0).asText("x"));
        }
        return body;
    }

    private static TestServer.Response send(String method, String url, String json) {
        return method.equals("patch") ? http.patch(url, "t-alice", json) : http.post(url, "t-alice", json);
    }

    private static Set<String> requiredOf(JsonNode schema) {
        Set<String> required = new TreeSet<>();
        schema.path("required").forEach(n -> required.add(n.asText()));
        return required;
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null && ref.isTextual()) {
                refs.add(ref.asText());
            }
            node.elements().forEachRemaining(child -> collectRefs(child, refs));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(child -> collectRefs(child, refs));
        }
    }
}
