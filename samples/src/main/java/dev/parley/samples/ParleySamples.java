package dev.parley.samples;

import dev.parley.samples.chat.ChatCommand;
import dev.parley.samples.chat.ChatLogging;
import dev.parley.samples.server.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The samples' runnable jar: {@code java -jar parley-samples.jar serve [--config FILE] [--port N] [--data DIR]}
 * starts the HTTP server, {@code chat [--config FILE] [--data DIR] [--user ID]} chats with the same engine in the
 * terminal.
 */
@Command(name = "parley-samples", mixinStandardHelpOptions = true,
        description = "Parley's sample programs.",
        subcommands = {ServeCommand.class, ChatCommand.class, CommandLine.HelpCommand.class})
public final class ParleySamples implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line {@code args} and exits with its code. */
    public static void main(String[] args) {
        // Before the first logger: building the command line below already creates some.
        ChatLogging.beforeFirstLogger(args);
        System.exit(new CommandLine(new ParleySamples()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: serve or chat");
    }
}
