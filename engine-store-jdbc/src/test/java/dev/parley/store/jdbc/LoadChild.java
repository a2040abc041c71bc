package dev.parley.store.jdbc;

import dev.parley.api.ConversationEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The second engine of {@link PostgresLoadTest}, in its own JVM. Arguments: the PostgreSQL JDBC URL, the file of
 * targets ({@link LoadWorkload.Target} lines), threads, turns per thread, seed, the file to write its attempts
 * to. Prints {@code ready} once its engine is open and waits for a line on standard input before it starts, so
 * that both engines run at once; prints {@code done} when its attempts are written.
 */
public final class LoadChild {
    private LoadChild() {
    }

    public static void main(String[] args) throws Exception {
        List<LoadWorkload.Target> targets = Files.readAllLines(Path.of(args[1])).stream()
                .filter(l -> !l.isEmpty()).map(LoadWorkload.Target::parse).toList();
        try (ConversationEngine engine = LoadWorkload.engine(JdbcConversationStore.of(args[0], null, null))) {
            System.out.println("ready");
            System.out.flush();
            if (System.in.read() < 0) {
                return;
            }
            List<LoadWorkload.Attempt> attempts = LoadWorkload.run(engine, targets, Integer.parseInt(args[2]),
                    Integer.parseInt(args[3]), Long.parseLong(args[4]), "child-" + LoadWorkload.newTag());
            LoadWorkload.write(Path.of(args[5]), attempts);
        }
        System.out.println("done");
        System.out.flush();
    }
}
