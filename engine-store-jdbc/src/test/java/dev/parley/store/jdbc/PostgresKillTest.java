package dev.parley.store.jdbc;

/** {@link KillTest} on the PostgreSQL test database; each run's conversations are its own. */
class PostgresKillTest extends KillTest {
    @Override
    protected String storeSpec() {
        TestDatabases.postgres().close(); // empties the tables, as every PostgreSQL test starts
        return "postgresql:" + TestDatabases.postgresUrl();
    }
}
