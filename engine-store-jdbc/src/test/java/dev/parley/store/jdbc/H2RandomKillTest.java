package dev.parley.store.jdbc;

/** {@link RandomKillTest} on an H2 file, as {@link JdbcConversationStore#h2File} opens it. */
class H2RandomKillTest extends RandomKillTest {
    @Override
    protected String storeSpec() {
        return "h2:" + dir.resolve("parley");
    }

    @Override
    protected String name() {
        return "h2-file";
    }
}
