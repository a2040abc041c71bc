package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's database refusing it, on PostgreSQL: the server's role may no longer log in and its connections are
 * terminated. A turn is then answered 503 with the store-failure code and no detail, stores nothing, and /health says
 * DOWN; once the database lets the server in again the same message is answered, once, without a restart.
 */
class StoreFailureOverHttpTest {
    private static final String SUPPORT = WorkspaceApiTest.SUPPORT;

    @TempDir
    Path data;

    private final String role = "parley_fault_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private TestServer http;

    @AfterEach
    void cleanUp() throws SQLException {
        if (http != null) {
            http.close();
        }
        admin("ALTER ROLE " + role + " LOGIN");
        admin("DROP SCHEMA IF EXISTS " + role + " CASCADE");
        admin("DROP ROLE IF EXISTS " + role);
    }

    @Test
    void aStoreThatRefusesTheServerIs503WithNothingStoredAndTheNextTurnWorksWithoutARestart() throws Exception {
        String url = TestPostgres.url();
        admin("CREATE ROLE " + role + " LOGIN");
        admin("CREATE SCHEMA " + role + " AUTHORIZATION " + role);
        String serverUrl = url.replaceAll("user=[^&]*", "user=" + role)
                + (url.contains("?") ? "&" : "?") + "currentSchema=" + role;
        Map<String, String> env = Map.of("PARLEY_JDBC_URL", serverUrl);
        http = TestServer.start(WorkspaceApiTest.CONFIG, data, Map.of(), s -> new ParleyServer.Settings(s.host(),
                s.port(), s.dataDir(), env::get, s.models(), s.maxStreams(), s.maxStreamsPerCaller(), false));
        TestServer.Response created = http.post(SUPPORT, "t-alice", "{}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("id").asText();
        assertThat(http.post(SUPPORT + "/" + id + "/messages", "t-alice", WorkspaceApiTest.message("s-1", "Hi"))
                .status()).isEqualTo(200);

        admin("ALTER ROLE " + role + " NOLOGIN");
        admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");

        TestServer.Response refused = http.post(SUPPORT + "/" + id + "/messages", "t-alice",
                WorkspaceApiTest.message("s-2", "Are you there?"));
        assertThat(refused.status()).as(refused.body()).isEqualTo(503);
        assertThat(refused.json().get("code").asText()).isEqualTo("storeFailure");
        assertThat(refused.body()).doesNotContain("Are you there", "org.postgresql", "SQL", "\tat ", role);
        TestServer.Response health = http.get("/health", null);
        assertThat(health.status()).isEqualTo(503);
        assertThat(health.json().get("status").asText()).isEqualTo("DOWN");

        admin("ALTER ROLE " + role + " LOGIN");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (http.get("/health", null).status() != 200) {
            assertThat(System.nanoTime()).as("the store is reachable again within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
        TestServer.Response again = http.post(SUPPORT + "/" + id + "/messages", "t-alice",
                WorkspaceApiTest.message("s-2", "Are you there?"));
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        JsonNode stored = http.get(SUPPORT + "/" + id + "/messages", "t-alice").json().get("data");
        assertThat(stored).extracting(m -> m.get("id").asText()).as("the refused turn stored nothing, its retry once")
                .filteredOn(m -> m.startsWith("s-")).containsExactly("s-1", "s-2");
        assertThat(stored).hasSize(4);
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestPostgres.url());
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
