package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** Retention and erasure on PostgreSQL, checked on its tables. */
class PostgresRetentionTest extends StoredRetentionTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected Connection connect() throws SQLException {
        return DriverManager.getConnection(TestDatabases.postgresUrl());
    }
}
