package dev.parley.samples;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class QuickstartTest {

    @Test
    void readmeQuickstartIsTheCompiledQuickstart() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find()).as("README.md has a java code block").isTrue();
        String source = Files.readString(Path.of("src/main/java/dev/parley/samples/Quickstart.java"));
        String between = source.substring(source.indexOf("// quickstart:begin") + "// quickstart:begin".length(),
                source.indexOf("// quickstart:end"));
        assertThat(normalize(block.group(1))).isEqualTo(normalize(between));
    }

    @Test
    void quickstartHoldsATurnWithAdditionalContext() throws IOException {
        List<ChatRequest> requests = new ArrayList<>();
        ChatModel model = new ChatModel() {
            @Override
            public ChatResponse doChat(ChatRequest request) {
                requests.add(request);
                return ChatResponse.builder().aiMessage(AiMessage.from("It is 444."))
                        .tokenUsage(new TokenUsage(30, 4)).build();
            }
        };

        // The quickstart keeps its conversations in data/parley.mv.db; start from none, whatever ran before.
        Files.deleteIfExists(Path.of("data", "parley.mv.db"));
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            Quickstart.run(model);
        } finally {
            System.setOut(stdout);
        }

        assertThat(printed.toString(StandardCharsets.UTF_8).lines()).contains("It is 444. (34 tokens)");
        List<ChatMessage> sent = requests.get(0).messages();
        assertThat(sent.get(0)).isEqualTo(SystemMessage.from("Be brief."));
        assertThat(sent.get(1)).isEqualTo(SystemMessage.from("My favourite number is 444"));
        assertThat(sent.get(2)).isEqualTo(UserMessage.from("What is my favourite number?"));
    }

    /** Lines stripped of indentation, blank lines dropped: the README may indent differently. */
    private static String normalize(String code) {
        return code.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(Collectors.joining("\n"));
    }
}
