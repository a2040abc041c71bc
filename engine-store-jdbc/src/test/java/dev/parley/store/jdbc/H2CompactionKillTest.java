package dev.parley.store.jdbc;

/** {@link CompactionKillTest} on an H2 file, as {@link JdbcConversationStore#h2File} opens it. */
class H2CompactionKillTest extends CompactionKillTest {
    @Override
    protected String storeSpec() {
        return "h2:" + dir.resolve("parley");
    }
}
