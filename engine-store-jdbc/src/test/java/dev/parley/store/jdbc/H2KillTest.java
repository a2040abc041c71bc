package dev.parley.store.jdbc;

/** {@link KillTest} on an H2 file, as {@link JdbcConversationStore#h2File} opens it. */
class H2KillTest extends KillTest {
    @Override
    protected String storeSpec() {
        return "h2:" + dir.resolve("parley");
    }

    @Override
    protected boolean holdsOutliveTheirEngine() {
        return false;
    }
}
