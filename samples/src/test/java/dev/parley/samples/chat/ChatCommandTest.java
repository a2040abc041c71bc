package dev.parley.samples.chat;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Role;
import dev.parley.samples.server.Authenticator;
import dev.parley.samples.server.SampleEngine;
import dev.parley.samples.server.config.ServerConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code chat} as a script drives it: a child JVM on the demo configuration, lines on its standard input (not a
 * terminal, so JLine's dumb terminal), its output read as it comes, and afterwards the H2 store under {@code --data}
 * opened with the engine to see what it kept.
 */
class ChatCommandTest {
    private static final Pattern TURN_LINE = Pattern.compile(
            "(?m)^tokens (\\d+) in / (\\d+) out \\| credits ([0-9.]+) used, ([0-9.]+) remaining \\| model demo$");
    private static final Pattern NEW_CONVERSATION = Pattern.compile("new conversation (\\S+)\\n");
    /** A JDK with {@code Console.isTerminal()} (JDK 22 and later), the chat's tests run on it too when it is there. */
    private static final Path JDK_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    @TempDir
    Path dir;

    @Test
    void aTwoTurnConversationStreamsEachReplyWithItsTurnLineAndIsStored() throws Exception {
        Path data = dir.resolve("data");
        String out;
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("Hello there");
            int at = chat.await("You said: \"Hello there\". I can see 0 earlier messages", 0);
            Matcher first = chat.awaitMatch(TURN_LINE, at);
            chat.send("What did I just say?");
            at = chat.await("You said: \"What did I just say?\". I can see 2 earlier messages", at);
            chat.awaitMatch(TURN_LINE, at);
            chat.send("/history");
            chat.await("page 1 of 1 (4 messages)", at);
            chat.send("/quit");
            assertThat(chat.awaitExit()).isZero();
            out = chat.output();
            assertThat(Long.parseLong(first.group(1))).isPositive();
            assertThat(Long.parseLong(first.group(2))).isPositive();
            assertThat(first.group(3)).isNotEqualTo("0");
            assertThat(chat.errors()).isEmpty();
        }
        assertThat(out).doesNotContain("\u001b").doesNotContain("you>");
        assertThat(out).contains("you: Hello there\nassistant: This is the offline demo model. You said: \"Hello there\".");
        assertThat(TURN_LINE.matcher(out).results().count()).isEqualTo(2);

        List<Message> stored = withStore(data, conversations -> {
            List<ConversationInfo> all = conversations.list(ConversationQuery.all(PageRequest.first())).items();
            assertThat(all).hasSize(1);
            assertThat(all.get(0).workspaceId()).isEqualTo("support");
            assertThat(all.get(0).ownerId()).isEqualTo("olivia");
            return conversations.get(all.get(0).id()).messages(PageRequest.first()).items();
        });
        assertThat(stored).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(stored).extracting(Message::status).containsOnly(MessageStatus.COMPLETE);
        assertThat(stored.get(2).text()).isEqualTo("What did I just say?");
        assertThat(out).contains(stored.get(3).text() + "\n");
    }

    @Test
    void newListSwitchAndHistoryMoveBetweenConversations() throws Exception {
        Path data = dir.resolve("data");
        String firstId;
        String secondId;
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("/new Answer like a pirate.");
            Matcher created = chat.awaitMatch(NEW_CONVERSATION, 0);
            firstId = created.group(1);
            chat.send("first conversation");
            int at = chat.await("You said: \"first conversation\"", 0);
            at = chat.awaitMatch(TURN_LINE, at).end() + at;
            chat.send("/new");
            Matcher second = chat.awaitMatch(NEW_CONVERSATION, at);
            secondId = second.group(1);
            at += second.end();
            chat.send("second conversation");
            at = chat.await("You said: \"second conversation\". I can see 0 earlier messages", at);
            chat.send("/list");
            at = chat.await("page 1 of 1 (2 conversations)", at);
            String list = chat.output();
            assertThat(list).contains("* " + secondId + "  support  olivia").contains("  " + firstId + "  support  olivia")
                    .contains("personality: Answer like a pirate.");
            chat.send("/switch " + firstId);
            at = chat.await("switched to conversation " + firstId, at);
            chat.send("/history");
            int historyEnd = chat.await("page 1 of 1 (2 messages)", at);
            String history = chat.output().substring(at, historyEnd);
            assertThat(history).contains("you: first conversation").doesNotContain("second conversation");
            chat.send("/switch no-such-conversation");
            at = chat.await("/switch: no conversation no-such-conversation\n", historyEnd);
            chat.send("/history 0");
            chat.await("/history: the page must be a whole number from 1, was 0\n", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
        }
        withStore(data, conversations -> {
            assertThat(conversations.get(firstId).info().steering().personality()).isEqualTo("Answer like a pirate.");
            assertThat(conversations.get(secondId).info().steering().personality()).isNull();
            assertThat(conversations.get(firstId).messages(PageRequest.first()).items())
                    .extracting(Message::text).first().isEqualTo("first conversation");
            return null;
        });
    }

    @Test
    void plainOnPrintsRepliesWithoutMarkdownAndContextCountsForTheNextTurnOnly() throws Exception {
        try (ChatProcess chat = ChatProcess.start(dir.resolve("data"))) {
            chat.send("a **bold** word");
            int at = chat.await("You said: \"a **bold** word\". I can see 0 earlier messages of this conversation and"
                    + " 0 system messages.", 0);
            chat.send("/plain on");
            at = chat.await("plain text on\n", at);
            chat.send("/context The user prefers tea.");
            at = chat.await("context set for the next turn\n", at);
            chat.send("a **bold** word");
            at = chat.await("You said: \"a bold word\". I can see 2 earlier messages of this conversation and"
                    + " 1 system message.", at);
            chat.send("/plain off");
            at = chat.await("plain text off\n", at);
            chat.send("a **bold** word");
            chat.await("You said: \"a **bold** word\". I can see 4 earlier messages of this conversation and"
                    + " 0 system messages.", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
        }
    }

    @Test
    void refusalsAreOnePlainLineAndTheChatGoesOn() throws Exception {
        Path data = dir.resolve("data");
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("/model gpt-9");
            int at = chat.await("/model: unknown model gpt-9; the configured ones are demo\n", 0);
            chat.send("/frobnicate");
            at = chat.await("unknown command /frobnicate; /help lists the commands\n", at);
            chat.send("/plain maybe");
            at = chat.await("/plain: on or off (now off)\n", at);
            chat.send("my key is AKIAIOSFODNN7EXAMPLE, keep it");
            at = chat.await("blocked by policy (POLICY_BLOCKED): ", at);
            int lineEnd = chat.await("\n", at);
            chat.send("/model demo");
            at = chat.await("model demo\n", lineEnd);
            chat.send("still there?");
            chat.await("You said: \"still there?\". I can see 0 earlier messages", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
            assertThat(chat.output()).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(chat.errors()).doesNotContain("Exception").doesNotContain("\tat ");
        }
        List<Message> stored = withStore(data, conversations -> {
            List<ConversationInfo> all = conversations.list(ConversationQuery.all(PageRequest.first())).items();
            assertThat(all).hasSize(1);
            assertThat(all.get(0).modelName()).isEqualTo("demo");
            return conversations.get(all.get(0).id()).messages(PageRequest.first()).items();
        });
        assertThat(stored).extracting(Message::text).noneMatch(text -> text.contains("AKIA"));
        assertThat(stored).hasSize(2);
    }

    @Test
    void linesAPolicyBlockedStayOutOfTheLineHistoryFile() throws Exception {
        Path data = dir.resolve("data");
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("Hello there");
            int at = chat.awaitMatch(TURN_LINE, 0).end();
            chat.send("my key is AKIAIOSFODNN7EXAMPLE, keep it");
            at = chat.await("blocked by policy (POLICY_BLOCKED): ", at);
            chat.send("/context the key is AKIAIOSFODNN7EXAMPLE");
            at = chat.await("context set for the next turn\n", at);
            chat.send("what is the key?");
            at = chat.await("blocked by policy (POLICY_BLOCKED): ", at);
            chat.send("/context The user prefers tea.");
            at = chat.await("context set for the next turn\n", at);
            chat.send("tea or coffee?");
            at = chat.await("You said: \"tea or coffee?\"", at);
            chat.awaitMatch(TURN_LINE, at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
        }
        Path history = data.resolve(ChatCommand.HISTORY_FILE);
        assertThat(history).exists();
        String kept = Files.readString(history);
        assertThat(kept).doesNotContain("AKIA").doesNotContain("what is the key?")
                .contains("Hello there").contains("/context The user prefers tea.").contains("tea or coffee?");
        // A second run reads the kept lines back and adds its own; the blocked ones are still not there.
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("again AKIAIOSFODNN7EXAMPLE");
            int at = chat.await("blocked by policy (POLICY_BLOCKED): ", 0);
            chat.send("/help");
            chat.await("/quit                  leave", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
        }
        assertThat(Files.readString(history)).doesNotContain("AKIA").contains("Hello there").contains("/help");
    }

    @Test
    void controlSequencesFromTheModelTheStoreAndTheUserAreNotPrinted() throws Exception {
        Path data = dir.resolve("data");
        String osc52 = "\u001b]52;c;aGk=\u0007";
        String title = "\u001b]0;owned\u0007";
        // A conversation stored before the chat starts: its personality, prompt and reply carry the sequences.
        String id = withStore(data, conversations -> {
            var conversation = conversations.create(NewConversation.inWorkspace("support")
                    .personality("Be " + title + " terse").build());
            conversation.send(Prompt.text("seeded " + osc52 + " then \u001b[2J and \u009b2J").build());
            return conversation.id();
        });
        String out;
        byte[] bytes;
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("/switch " + id);
            int at = chat.await("switched to conversation " + id + "\n", 0);
            // What is typed reaches the demo model, which echoes it: ESC and CSI survive the line reader (BEL and a
            // backslash do not), so the streamed reply carries them.
            chat.send("typed \u001b]52;c;aGk= then \u001b[2J and \u009b2J end");
            at = chat.await("You said: \"typed ]52;c;aGk= then [2J and 2J end\"", at);
            at = chat.awaitMatch(TURN_LINE, at).end() + at;
            chat.send("/history");
            at = chat.await("page 1 of 1 (4 messages)", at);
            chat.send("/list");
            chat.await("page 1 of 1 (1 conversations)", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
            out = chat.output();
            bytes = chat.outputBytes();
        }
        assertThat(bytes).doesNotContain((byte) 0x1b).doesNotContain((byte) 0x07).doesNotContain((byte) 0x9b);
        assertThat(out).doesNotContain("\u009b");
        assertThat(out).contains("you: seeded ]52;c;aGk= then [2J and 2J\n")
                .contains("assistant: This is the offline demo model. You said: \"seeded ]52;c;aGk= then [2J and 2J\".")
                .contains("assistant: This is the offline demo model."
                        + " You said: \"typed ]52;c;aGk= then [2J and 2J end\".")
                .contains("personality: Be ]0;owned terse");
        // The store keeps the text as it came; only the printing leaves the controls out.
        List<Message> stored = withStore(data,
                conversations -> conversations.get(id).messages(PageRequest.first()).items());
        assertThat(stored).hasSize(4);
        assertThat(stored.get(1).text()).contains(osc52).contains("\u001b[2J");
        assertThat(stored.get(3).text()).contains("\u001b]52;c;aGk=").contains("\u009b2J");
    }

    @Test
    void pipedStreamsStayPlainOnAJdkWithConsoleIsTerminal() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(JDK_25.resolve("bin").resolve("java")), "no JDK at " + JDK_25);
        Path data = dir.resolve("data");
        try (ChatProcess chat = ChatProcess.startOn(JDK_25, data)) {
            chat.send("Hello there");
            int at = chat.await("You said: \"Hello there\". I can see 0 earlier messages", 0);
            chat.awaitMatch(TURN_LINE, at);
            chat.send("/quit");
            assertThat(chat.awaitExit()).isZero();
            assertThat(chat.output()).doesNotContain("\u001b").doesNotContain("you>").doesNotContain("Parley chat as")
                    .startsWith("This is the offline demo model.");
        }
    }

    @Test
    void onAPseudoTerminalTheChatIsInteractive() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ChatProcess.SCRIPT), "no " + ChatProcess.SCRIPT);
        interactiveOn(Path.of(System.getProperty("java.home")), dir.resolve("data"));
    }

    @Test
    void onAPseudoTerminalTheChatIsInteractiveOnAJdkWithConsoleIsTerminal() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ChatProcess.SCRIPT), "no " + ChatProcess.SCRIPT);
        Assumptions.assumeTrue(Files.isExecutable(JDK_25.resolve("bin").resolve("java")), "no JDK at " + JDK_25);
        interactiveOn(JDK_25, dir.resolve("data"));
    }

    /**
     * The chat on {@code javaHome} in a pseudo terminal greets (which it does only when interactive), answers /help
     * and leaves at /quit.
     */
    private static void interactiveOn(Path javaHome, Path data) throws Exception {
        try (ChatProcess chat = ChatProcess.startInPseudoTerminal(javaHome, data)) {
            int at = chat.await("Parley chat as olivia in workspace support. Type a message, or /help.", 0);
            chat.send("/help");
            chat.await("/quit                  leave", at);
            chat.send("/quit");
            assertThat(chat.awaitExit()).isZero();
        }
    }

    @Test
    void sigintDuringAReplyCancelsTheStreamKeepsThePartAndTheChatGoesOn() throws Exception {
        Path data = dir.resolve("data");
        String out;
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("tell me a long story");
            int at = chat.await("This is the offline demo model.", 0);
            chat.interrupt();
            at = chat.await(ChatSession.CANCELLED + "\n", at);
            assertThat(chat.isAlive()).isTrue();
            chat.awaitMatch(TURN_LINE, at);
            chat.send("/history");
            at = chat.await("page 1 of 1 (2 messages)", at);
            chat.send("and now?");
            chat.await("You said: \"and now?\".", at);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
            out = chat.output();
        }
        List<Message> stored = withStore(data, conversations -> {
            List<ConversationInfo> all = conversations.list(ConversationQuery.all(PageRequest.first())).items();
            return conversations.get(all.get(0).id()).messages(PageRequest.first()).items();
        });
        assertThat(stored).hasSize(4);
        Message cancelled = stored.get(1);
        assertThat(cancelled.status()).isEqualTo(MessageStatus.CANCELLED);
        String whole = "This is the offline demo model. You said: \"tell me a long story\". I can see 0 earlier"
                + " messages of this conversation and 0 system messages. " + ChatCommand.DEMO_AFTERWORD;
        assertThat(cancelled.text()).startsWith("This is the offline demo model.").isNotEqualTo(whole);
        assertThat(whole).startsWith(cancelled.text());
        // The part printed is the part stored, marked; /history shows it marked as well.
        assertThat(out).startsWith(cancelled.text() + " " + ChatSession.CANCELLED + "\n");
        assertThat(out).contains("assistant: " + cancelled.text() + " " + ChatSession.CANCELLED + "\n");
        assertThat(stored.get(3).status()).isEqualTo(MessageStatus.COMPLETE);
    }

    @Test
    void libraryStartupLogsGoToTheLogFileNotTheTerminal() throws Exception {
        Path data = dir.resolve("data");
        try (ChatProcess chat = ChatProcess.start(data)) {
            chat.send("Hello there");
            chat.awaitMatch(TURN_LINE, 0);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
            String terminal = chat.output() + chat.errors();
            assertThat(terminal).doesNotContain("INFO").doesNotContain("flywaydb").doesNotContain("hikari");
        }
        Path log = data.resolve("logs").resolve(ChatLogging.LOG_FILE);
        assertThat(log).exists();
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).anyMatch(l -> l.contains(" INFO ") && l.contains("org.flywaydb"));
        assertThat(lines).anyMatch(l -> l.contains(" INFO ") && l.contains("com.zaxxer.hikari"));
        assertThat(lines).noneMatch(l -> l.contains("Hello there"));
    }

    @Test
    void anUnknownUserIsRefusedInOneLineNamingTheUsers() throws IOException, InterruptedException {
        try (ChatProcess chat = ChatProcess.start(dir.resolve("data"), "--user", "mallory")) {
            assertThat(chat.awaitExit()).isEqualTo(2);
            assertThat(chat.errors()).isEqualTo("--user: no configured user mallory; the users are olivia, walter,"
                    + " alice, bob" + System.lineSeparator());
        }
    }

    @Test
    void anotherUserChatsInTheirOwnWorkspace() throws Exception {
        Path data = dir.resolve("data");
        try (ChatProcess chat = ChatProcess.start(data, "--user", "bob")) {
            chat.send("Hi, I am bob");
            chat.awaitMatch(TURN_LINE, 0);
            assertThat(chat.closeInputAndAwaitExit()).isZero();
        }
        List<ConversationInfo> all = withStore(data,
                conversations -> conversations.list(ConversationQuery.all(PageRequest.first())).items());
        assertThat(all).extracting(ConversationInfo::ownerId).containsExactly("bob");
        assertThat(all).extracting(ConversationInfo::workspaceId).containsExactly("support");
    }

    /** Opens the store under {@code data} with the demo configuration's engine, as its first user, olivia. */
    private static <T> T withStore(Path data, Function<Conversations, T> read) {
        ServerConfig config = SampleEngine.config(null, name -> null);
        try (SampleEngine sample = SampleEngine.open(config, data, name -> null, Map.of())) {
            return read.apply(sample.engine().as(Authenticator.caller(ChatCommand.user(config, null).orElseThrow())));
        }
    }
}
