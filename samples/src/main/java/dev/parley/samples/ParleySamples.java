package dev.parley.samples;

import dev.parley.samples.console.ConsoleChat;
import dev.parley.samples.server.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;

/**
 * The samples' runnable jar: {@code java -jar parley-samples.jar serve [--config FILE] [--port N] [--data DIR]}
 * starts the HTTP server, {@code console} runs the scripted console chat.
 */
@Command(name = "parley-samples", mixinStandardHelpOptions = true,
        description = "Parley's sample programs.",
        subcommands = {ServeCommand.class, ParleySamples.Console.class, CommandLine.HelpCommand.class})
public final class ParleySamples implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line {@code args} and exits with its code. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ParleySamples()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: serve or console");
    }

    /** The scripted console chat, on an H2 file under {@code --data}. */
    @Command(name = "console", mixinStandardHelpOptions = true,
            description = "Runs a scripted multi-turn conversation and prints it.")
    static final class Console implements Runnable {
        @CommandLine.Option(names = "--data", defaultValue = "data", description = "Data directory (default: ${DEFAULT-VALUE}).")
        Path data;

        @Override
        public void run() {
            ConsoleChat.run(System.out, data.resolve("console-chat"));
        }
    }
}
