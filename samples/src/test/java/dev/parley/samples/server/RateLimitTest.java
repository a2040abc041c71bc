package dev.parley.samples.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitTest {

    @TempDir
    Path data;

    @Test
    void aCallerOverTheirRequestsPerMinuteGets429WithRetryAfterAndNothingIsStored() {
        try (TestServer http = TestServer.start("/dev/parley/samples/server/rate-limited-config.json", data, Map.of())) {
            String id = http.create("t-alice", "handbook");
            // One request a minute: of three in a row at most two fall in different minutes, so one is refused.
            TestServer.Response refused = null;
            int answered = 0;
            for (int i = 0; i < 3 && refused == null; i++) {
                TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"hi\"}");
                if (r.status() == 429) {
                    refused = r;
                } else {
                    assertThat(r.status()).isEqualTo(200);
                    answered++;
                }
            }

            assertThat(refused).isNotNull();
            assertThat(refused.json().get("success").asBoolean()).isFalse();
            assertThat(refused.message()).contains("rate limited");
            assertThat(refused.retryAfter()).isNotNull();
            assertThat(Integer.parseInt(refused.retryAfter())).isBetween(1, 60);
            assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("page")
                    .get("totalElements").asLong()).isEqualTo(2L * answered);
        }
    }
}
