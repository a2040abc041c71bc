package dev.parley.samples.chat;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the chat's logs go, chosen before the first logger is created: a person reads the chat's own output on the
 * terminal, so libraries (Flyway, HikariCP, the engine) reach it only at WARN, on standard error, while the whole
 * log, INFO and up, goes to {@code DATA/logs/parley-samples.log}. It sets the system property
 * {@value #LOG_DIR_PROPERTY}, read by the chat's logback configuration {@value #CONFIG_RESOURCE}, and points
 * {@code logback.configurationFile} at that configuration unless it was set already. {@code serve} keeps the jar's
 * {@code logback.xml}, which writes to the same file and shows the server's own lines and the libraries' warnings
 * on the console; this sets its log directory too. Call from {@code main} only; not thread safe.
 */
public final class ChatLogging {
    /** The system property of the directory the chat's log file is written to. */
    public static final String LOG_DIR_PROPERTY = "parley.samples.logDir";
    /** The chat's logback configuration, a class-path resource. */
    public static final String CONFIG_RESOURCE = "dev/parley/samples/chat/logback-chat.xml";
    /** The log file's name, in the log directory. */
    public static final String LOG_FILE = "parley-samples.log";

    private static final String LOGBACK_CONFIGURATION = "logback.configurationFile";

    private ChatLogging() {
    }

    /**
     * Sets up the logging of the {@code chat} and {@code serve} commands when {@code args} run one; does nothing for
     * the others. Reads
     * {@code --data DIR} (or {@code --data=DIR}) from the arguments as the command does, {@code data} by default.
     */
    public static void beforeFirstLogger(String[] args) {
        Objects.requireNonNull(args, "args");
        if (args.length == 0 || !(ChatCommand.NAME.equals(args[0]) || "serve".equals(args[0]))) {
            return;
        }
        String data = "data";
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--data") && i + 1 < args.length) {
                data = args[i + 1];
            } else if (args[i].startsWith("--data=")) {
                data = args[i].substring("--data=".length());
            }
        }
        System.setProperty(LOG_DIR_PROPERTY, Path.of(data).resolve("logs").toAbsolutePath().toString());
        if (ChatCommand.NAME.equals(args[0]) && System.getProperty(LOGBACK_CONFIGURATION) == null) {
            System.setProperty(LOGBACK_CONFIGURATION, CONFIG_RESOURCE);
        }
    }
}
