package dev.parley.samples.chat;

import dev.parley.api.Caller;
import dev.parley.samples.server.Authenticator;
import dev.parley.samples.server.DemoModel;
import dev.parley.samples.server.SampleEngine;
import dev.parley.samples.server.config.ConfigException;
import dev.parley.samples.server.config.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.Signals;
import org.jspecify.annotations.Nullable;

/**
 * {@code chat [--config FILE] [--data DIR] [--user ID]}: a chat in the terminal on the engine {@code serve} runs on,
 * built the same way ({@link SampleEngine}): the configuration file or the built-in demo one, the H2 file under
 * {@code --data} or the store of {@code PARLEY_JDBC_URL}. It acts as the configured user {@code --user} (the first
 * one by default: {@code olivia}, the demo's organization admin) and starts its conversations in that user's first
 * workspace (the organization's first for an organization admin). When standard input and output are not both a
 * terminal ({@code bothStreamsATerminal}) it reads lines from JLine's dumb terminal on them; then, or when the
 * terminal JLine opens is a dumb one, it prints no prompt or colour, so that it can be scripted. The line history is
 * kept in {@code DATA/chat-history}, piped runs included, without the lines a policy blocked ({@code ChatHistory}).
 * What it prints that came from the model, the store or the user is stripped of control characters first
 * ({@code TerminalText}), so that a reply cannot drive the terminal. Exits with 0 at {@code /quit} or end of input, 2
 * when the configuration or the user is refused (one line on standard error). Not thread safe; run once.
 */
@Command(name = ChatCommand.NAME, mixinStandardHelpOptions = true,
        description = "Chats with the engine in the terminal; /help lists the commands.")
public final class ChatCommand implements Callable<Integer> {
    /** The command's name. */
    public static final String NAME = "chat";
    /**
     * What the demo model adds to each reply here: a reply long enough to stream past what the output policies hold
     * back, and a word on what to try.
     */
    static final String DEMO_AFTERWORD = "Each word of this reply arrives on its own, a moment after the one before,"
            + " the way a real model streams; press Ctrl-C while it does and the reply stops there, the part that"
            + " arrived kept in the conversation and marked cancelled. Type /help for the commands: /new starts a"
            + " conversation, /list and /switch move between them, /history shows this one, /model and /personality"
            + " change how the next turns are answered, and /context adds text to the next turn only. The demo model"
            + " runs inside this program: it needs no network and no key.";
    /** The name of the line history file in the data directory. */
    static final String HISTORY_FILE = "chat-history";

    @Option(names = "--config", paramLabel = "FILE",
            description = "JSON configuration file; without it the built-in demo configuration is used.")
    @Nullable Path config;

    @Option(names = "--data", defaultValue = "data",
            description = "Directory of the H2 store (unless PARLEY_JDBC_URL is set), the logs and the line history"
                    + " (default: ${DEFAULT-VALUE}).")
    Path data = Path.of("data");

    @Option(names = "--user", paramLabel = "ID",
            description = "The configured user to chat as (default: the first one).")
    @Nullable String user;

    @Override
    public Integer call() throws IOException {
        PrintStream err = System.err;
        ServerConfig serverConfig;
        try {
            serverConfig = SampleEngine.config(config, System::getenv);
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return 2;
        }
        Optional<ServerConfig.User> chosen = user(serverConfig, user);
        if (chosen.isEmpty()) {
            err.println("--user: no configured user " + user + "; the users are "
                    + serverConfig.users().stream().map(ServerConfig.User::id).collect(Collectors.joining(", ")));
            return 2;
        }
        Caller caller = Authenticator.caller(chosen.get());
        Optional<String> workspace = workspace(serverConfig, chosen.get());
        if (workspace.isEmpty()) {
            err.println("--user: " + caller.userId() + " has no workspace to start conversations in");
            return 2;
        }
        Files.createDirectories(data);
        boolean onATerminal = bothStreamsATerminal();
        try (SampleEngine sample = SampleEngine.open(serverConfig, data, System::getenv,
                DemoModel.forDemoModelsOf(serverConfig, DemoModel.WATCHABLE_PAUSE, DEMO_AFTERWORD));
             Terminal terminal = terminal(onATerminal)) {
            // A terminal JLine could only make dumb (TERM=dumb, no provider) gets no prompt or colour either.
            boolean interactive = onATerminal && !isDumb(terminal);
            // A dumb terminal reads ^C from its input only: SIGINT sent to the process reaches it this way.
            Object previousHandler = interactive ? null
                    : Signals.register("INT", () -> terminal.raise(Terminal.Signal.INT));
            try {
                chat(sample, caller, workspace.get(), serverConfig, terminal, interactive);
            } finally {
                if (previousHandler != null) {
                    Signals.unregister("INT", previousHandler);
                }
            }
        }
        return 0;
    }

    private void chat(SampleEngine sample, Caller caller, String workspace, ServerConfig serverConfig,
                      Terminal terminal, boolean interactive) {
        ChatHistory history = new ChatHistory();
        LineReader reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("parley-chat")
                .history(history)
                .variable(LineReader.HISTORY_FILE, data.resolve(HISTORY_FILE))
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
        new ChatSession(sample.engine().as(caller), workspace, models(serverConfig), terminal, reader, history,
                interactive).run();
    }

    /**
     * Whether standard input and output are both a terminal. Up to JDK 21 that is whether there is a
     * {@link System#console() console}; JDK 22 gives a console for redirected streams as well, so where
     * {@code Console.isTerminal()} exists (JDK 22 and later; called reflectively, as this compiles for 17) it tells.
     */
    static boolean bothStreamsATerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        Method isTerminal;
        try {
            isTerminal = Console.class.getMethod("isTerminal");
        } catch (NoSuchMethodException e) {
            return true; // before JDK 22: a console only when both streams are a terminal
        }
        try {
            return Boolean.TRUE.equals(isTerminal.invoke(console));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private static boolean isDumb(Terminal terminal) {
        return Terminal.TYPE_DUMB.equals(terminal.getType()) || Terminal.TYPE_DUMB_COLOR.equals(terminal.getType());
    }

    /**
     * The system terminal when both standard streams are one; else JLine's dumb terminal on them (SIGINT is handed
     * to it by the caller, as the dumb terminal does not register for signals itself).
     */
    private static Terminal terminal(boolean onATerminal) throws IOException {
        TerminalBuilder b = TerminalBuilder.builder().name("parley-chat").system(true);
        if (!onATerminal) {
            b.dumb(true).type(Terminal.TYPE_DUMB);
        }
        return b.build();
    }

    /** The user {@code id}, or the first configured one when it is null. */
    static Optional<ServerConfig.User> user(ServerConfig config, @Nullable String id) {
        if (id == null) {
            return config.users().stream().findFirst();
        }
        return config.users().stream().filter(u -> id.equals(u.id())).findFirst();
    }

    /**
     * Where the user's conversations start: their first workspace, or for an organization admin without one the
     * organization's first workspace.
     */
    static Optional<String> workspace(ServerConfig config, ServerConfig.User user) {
        Optional<String> claimed = user.workspaces().keySet().stream().findFirst();
        if (claimed.isPresent() || !Boolean.TRUE.equals(user.organizationAdmin())) {
            return claimed;
        }
        return config.workspaces().stream()
                .filter(w -> Objects.equals(w.organizationId(), user.organizationId()))
                .map(ServerConfig.Workspace::id)
                .filter(Objects::nonNull)
                .findFirst();
    }

    private static List<String> models(ServerConfig config) {
        return config.models().stream().map(ServerConfig.Model::name).filter(Objects::nonNull).toList();
    }
}
