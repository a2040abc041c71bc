package dev.parley.store.jdbc;

/** {@link CompactionKillTest} on the PostgreSQL test database. */
class PostgresCompactionKillTest extends CompactionKillTest {
    @Override
    protected String storeSpec() {
        TestDatabases.postgres().close(); // empties the tables, as every PostgreSQL test starts
        return "postgresql:" + TestDatabases.postgresUrl();
    }
}
