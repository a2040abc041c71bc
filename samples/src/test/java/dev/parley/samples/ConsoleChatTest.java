package dev.parley.samples;

import dev.parley.api.ConversationInfo;
import dev.parley.samples.console.ConsoleChat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleChatTest {

    @TempDir
    Path dir;

    @Test
    void theSampleRemembersWhatWasSaidEarlierAndPrintsTheTotals() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConversationInfo info = ConsoleChat.run(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                dir.resolve("console-chat"));
        String out = bytes.toString(StandardCharsets.UTF_8);

        assertThat(out).contains("model> Your favourite number is 444.");
        assertThat(out).contains("Stored 6 messages in ").contains("console-chat.mv.db; conversation totals: "
                + info.tokensIn() + " tokens in, " + info.tokensOut() + " tokens out.");
        assertThat(info.tokensIn()).isPositive();
        assertThat(info.tokensOut()).isPositive();
    }
}
