package dev.parley.samples.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerLifecycleTest {

    @TempDir
    Path data;

    @Test
    void requestsAreLoggedWithoutPromptTextOrQueryString() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger requests = (Logger) LoggerFactory.getLogger("dev.parley.samples.server.requests");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level before = requests.getLevel();
        requests.setLevel(Level.INFO);
        root.addAppender(appender);
        try (TestServer http = TestServer.start(RepositoryApiTest.CONFIG, data, Map.of("TEST_BYOK_KEY", "k",
                "TEST_BYOK_URL", TestServer.closedPortUrl()))) {
            String id = http.create("t-alice", "handbook");
            http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"the secret word is marmalade\"}");
            http.get("/conversation?repoId=handbook&marker=quince", "t-alice");
        } finally {
            root.detachAppender(appender);
            requests.setLevel(before);
        }

        assertThat(appender.list).filteredOn(e -> e.getLoggerName().equals(requests.getName()))
                .extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.startsWith("POST /conversation/") && m.contains("/prompt 200"))
                .anyMatch(m -> m.startsWith("GET /conversation 200"));
        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains("marmalade") || m.contains("quince") || m.contains("t-alice"));
    }

    @Test
    void aClosedServerRefusesConnectionsAndClosesOnce() {
        TestServer http = TestServer.start(RepositoryApiTest.CONFIG, data, Map.of("TEST_BYOK_KEY", "k",
                "TEST_BYOK_URL", TestServer.closedPortUrl()));
        assertThat(http.get("/health", null).status()).isEqualTo(200);

        http.close();
        http.close();

        assertThatThrownBy(() -> http.get("/health", null)).isInstanceOf(UncheckedIOException.class);
    }
}
