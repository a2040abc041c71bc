package dev.parley.store.jdbc;

import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An acknowledged turn survives the death of its JVM: a child JVM sends turns on an H2 file and is killed with
 * SIGKILL ({@link Process#destroyForcibly()}) right after a number of acknowledgements; every turn it
 * acknowledged must be in the file when it is opened again.
 */
class H2DurabilityTest {
    private static final int ROUNDS = 5;
    private static final int ACKS_BEFORE_KILL = 25;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void noAcknowledgedTurnIsLostWhenTheJvmIsKilled() throws Exception {
        Path db = dir.resolve("parley");
        Map<String, List<String>> acknowledged = new HashMap<>();
        for (int round = 1; round <= ROUNDS; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), TurnsUntilKilled.class.getName(),
                    db.toString(), "round" + round)
                    .redirectError(dir.resolve("child-" + round + ".err").toFile())
                    .start();
            String conversation = null;
            List<String> acks = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while (acks.size() < ACKS_BEFORE_KILL && (line = out.readLine()) != null) {
                    if (line.startsWith("conversation ")) {
                        conversation = line.substring("conversation ".length());
                    } else if (line.startsWith("ack ")) {
                        acks.add(line.substring("ack ".length()));
                    }
                }
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }
            assertThat(acks).as("acknowledged turns of round %d (see %s)", round, dir.resolve("child-" + round + ".err"))
                    .hasSize(ACKS_BEFORE_KILL);
            acknowledged.put(conversation, acks);
        }

        try (JdbcConversationStore store = JdbcConversationStore.h2File(db)) {
            for (Map.Entry<String, List<String>> e : acknowledged.entrySet()) {
                Map<String, String> stored = storedTurns(store, e.getKey());
                for (String id : e.getValue()) {
                    assertThat(stored).as("acknowledged turn %s", id).containsEntry(id, "turn " + id + " -> echo: turn " + id);
                }
            }
        }
    }

    /** Each stored prompt's id with its text and its reply's text. */
    private static Map<String, String> storedTurns(JdbcConversationStore store, String conversationId) throws IOException {
        List<Message> all = new ArrayList<>();
        for (int page = 1; ; page++) {
            List<Message> items = store.messages(conversationId, PageRequest.of(page, PageRequest.MAX_SIZE)).items();
            all.addAll(items);
            if (items.size() < PageRequest.MAX_SIZE) {
                break;
            }
        }
        Map<String, String> turns = new HashMap<>();
        for (int i = 0; i + 1 < all.size(); i += 2) {
            Message prompt = all.get(i);
            Message reply = all.get(i + 1);
            assertThat(prompt.role()).isEqualTo(Role.USER);
            assertThat(reply.role()).isEqualTo(Role.ASSISTANT);
            turns.put(prompt.id(), prompt.text() + " -> " + reply.text());
        }
        return turns;
    }
}
