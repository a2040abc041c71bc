package dev.parley.store.jdbc;

/** {@link RandomKillTest} on the PostgreSQL test database. */
class PostgresRandomKillTest extends RandomKillTest {
    @Override
    protected String storeSpec() {
        TestDatabases.postgres().close(); // empties the tables, as every PostgreSQL test starts
        return "postgresql:" + TestDatabases.postgresUrl();
    }

    @Override
    protected String name() {
        return "postgresql";
    }
}
