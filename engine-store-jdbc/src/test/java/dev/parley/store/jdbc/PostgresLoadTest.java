package dev.parley.store.jdbc;

import dev.parley.store.jdbc.LoadWorkload.Attempt;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link LoadTest} on PostgreSQL with two engines in two JVMs: half the threads here, half in a child JVM
 * ({@link LoadChild}) on the same database and conversations, started together.
 */
class PostgresLoadTest extends LoadTest {
    private boolean emptied;

    @Override
    protected String name() {
        return "postgresql-two-jvms";
    }

    @Override
    protected JdbcConversationStore openStore() {
        if (!emptied) {
            emptied = true;
            return TestDatabases.postgres();
        }
        return JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null);
    }

    @Override
    protected Connection connect() throws SQLException {
        return DriverManager.getConnection(TestDatabases.postgresUrl());
    }

    @Override
    protected int localThreads() {
        return THREADS - THREADS / 2;
    }

    @Override
    protected List<Attempt> otherEngines(Path targets, Runnable startLocal) throws Exception {
        Path out = dir.resolve("child-attempts.tsv");
        Path err = dir.resolve("child.err");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LoadChild.class.getName(), TestDatabases.postgresUrl(),
                targets.toString(), Integer.toString(THREADS / 2), Integer.toString(TURNS_PER_THREAD), "7",
                out.toString()));
        Process child = new ProcessBuilder(command).redirectError(err.toFile()).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
             OutputStream go = child.getOutputStream()) {
            if (!awaitLine(lines, "ready")) {
                throw new IllegalStateException("the child engine did not start: " + Files.readString(err));
            }
            go.write('\n');
            go.flush();
            startLocal.run();
            if (!awaitLine(lines, "done")) {
                throw new IllegalStateException("the child engine did not finish: " + Files.readString(err));
            }
            if (!child.waitFor(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the child engine did not exit");
            }
        } finally {
            child.destroyForcibly();
        }
        return LoadWorkload.read(out);
    }

    /** Reads the child's output (its log lines among it) until {@code expected}; false at its end. */
    private static boolean awaitLine(BufferedReader lines, String expected) throws java.io.IOException {
        for (String line; (line = lines.readLine()) != null; ) {
            if (line.equals(expected)) {
                return true;
            }
        }
        return false;
    }
}
