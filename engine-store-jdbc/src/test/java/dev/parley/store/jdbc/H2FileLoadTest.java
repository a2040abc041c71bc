package dev.parley.store.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** {@link LoadTest} on an H2 file, as {@link JdbcConversationStore#h2File} opens it. */
class H2FileLoadTest extends LoadTest {
    private Path file() {
        return dir.resolve("load");
    }

    @Override
    protected String name() {
        return "h2-file";
    }

    @Override
    protected JdbcConversationStore openStore() {
        return JdbcConversationStore.h2File(file());
    }

    @Override
    protected Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:h2:file:" + file().toAbsolutePath(), "sa", "");
    }
}
