package dev.parley.samples.server;

import dev.parley.api.spi.ModelProvider;
import dev.parley.samples.server.config.ConfigException;
import dev.parley.samples.server.config.ConfigLoader;
import dev.parley.samples.server.config.ServerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve [--config FILE] [--port N] [--data DIR] [--host ADDRESS]}: starts the HTTP server on the configuration
 * file, or on the built-in demo configuration when none is given (then it logs the demo tokens and a {@code curl}
 * line to try; the browser page at {@code /} then offers those users to sign in with), and runs until the process is stopped (SIGTERM or Ctrl-C stop it gracefully). Exits with 2 when the
 * configuration is invalid, naming each bad field.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Starts the HTTP server that speaks the conversation APIs over one Parley engine.")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    /**
     * What the demo model adds to each reply of the demo configuration: a reply long enough to stream past what the
     * output policies hold back (the longest span a rule needs), and a word on what to try.
     */
    static final String DEMO_AFTERWORD = "Each word of this reply arrives on its own, a moment after the one before,"
            + " the way a real model streams; press Stop (or Escape) on the chat page while it does and the reply"
            + " stops there, the part that arrived kept in the conversation and marked cancelled. Try a second"
            + " message: the model sees the earlier ones. Pick a brand voice or add context for one turn, and watch"
            + " the tokens and credits each turn costs. A message with an API key in it is blocked before any model"
            + " call, and an e-mail address is redacted. The demo model runs inside the server: it needs no network"
            + " and no key.";

    @Option(names = "--config", paramLabel = "FILE",
            description = "JSON configuration file; without it the built-in demo configuration is used.")
    @Nullable Path config;

    @Option(names = "--port", defaultValue = "8080", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
    int port;

    /**
     * Loopback by default: the demo configuration's tokens are documented, one of them an organization admin's, so
     * the server is reachable from other machines only when asked ({@code --host 0.0.0.0}).
     */
    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host = "127.0.0.1";

    @Option(names = "--data", defaultValue = "data",
            description = "Directory of the H2 store, unless PARLEY_JDBC_URL is set (default: ${DEFAULT-VALUE}).")
    Path data = Path.of("data");

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig serverConfig;
        try {
            serverConfig = SampleEngine.config(config, System::getenv);
        } catch (ConfigException e) {
            LOG.error("{}", e.getMessage());
            return 2;
        }
        ParleyServer.Settings settings = new ParleyServer.Settings(host, port, data, System::getenv);
        if (config == null) {
            if (demoSignIn(host, System::getenv)) {
                settings = settings.withDemoSignIn();
            } else {
                LOG.info("the chat page does not list the demo users: the server is reachable beyond this machine"
                        + " or spends a real model's key; sign in there with a bearer token");
            }
            for (Map.Entry<String, ModelProvider> demo
                    : DemoModel.forDemoModelsOf(serverConfig, DemoModel.WATCHABLE_PAUSE, DEMO_AFTERWORD).entrySet()) {
                settings = settings.withModel(demo.getKey(), demo.getValue());
            }
        }
        ParleyServer server = ParleyServer.start(serverConfig, settings);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "parley-shutdown"));
        if (config == null) {
            logDemo(serverConfig, server.port());
        }
        server.awaitStop();
        return 0;
    }

    /**
     * Whether the chat page may list the demo users and their tokens to anyone who opens it: only on a loopback
     * address, and only while every model is the offline demo model (with {@code OPENAI_API_KEY} set the demo's
     * default model spends that key).
     */
    static boolean demoSignIn(String host, Function<String, String> environment) {
        String key = environment.apply(ConfigLoader.OPENAI_API_KEY);
        if (key != null && !key.isBlank()) {
            return false;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static void logDemo(ServerConfig config, int port) {
        LOG.info("running on the built-in demo configuration, default model {}; its users and bearer tokens:",
                config.defaultModel());
        for (ServerConfig.User user : config.users()) {
            String role = Boolean.TRUE.equals(user.organizationAdmin()) ? "organization admin"
                    : user.workspaces().toString();
            LOG.info("  {} ({}): {}, api key {}", user.id(), role, user.token(), user.apiKey());
        }
        LOG.info("open http://localhost:{}/ in a browser for the chat page", port);
        LOG.info("try: curl -s -X POST http://localhost:{}/conversation -H 'Authorization: Bearer demo-alice-token'"
                + " -H 'Content-Type: application/json' -d '{\"repoId\":\"handbook\"}'", port);
        LOG.info("then: curl -s -X POST http://localhost:{}/conversation/<conversationId>/prompt"
                + " -H 'Authorization: Bearer demo-alice-token' -H 'Content-Type: application/json'"
                + " -d '{\"prompt\":\"Hello!\"}'", port);
        LOG.info("or the workspace-style API: curl -s -X POST http://localhost:{}/api/v1/workspaces/support/conversations"
                + " -H 'Authorization: Bearer demo-alice-token' -H 'Content-Type: application/json'"
                + " -d '{\"brandVoiceId\":\"acme-voice\"}'", port);
        LOG.info("or the assistant-style API: curl -s -X POST 'http://localhost:{}/api/conversation/my-first-chat"
                + "?api_key=demo-alice-key&board_id=helpdesk&chat_id=welcome' -H 'Content-Type: application/json'"
                + " -d '{\"prompt\":\"Hello!\",\"plaintext\":\"true\"}'", port);
    }
}
