package dev.parley.store.jdbc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The H2 URLs the store builds from a path or a name take nothing but the path or name from them. */
class H2UrlTest {
    @TempDir
    Path dir;

    @Test
    void aFilePathWithASemicolonIsRefusedInsteadOfAddingH2Settings() {
        Path path = dir.resolve("db;INIT=CREATE ALIAS X FOR 'java.lang.Runtime.getRuntime'");

        assertThatThrownBy(() -> JdbcConversationStore.h2File(path))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("path ");
        assertThatThrownBy(() -> JdbcConversationStore.builder().h2File(dir.resolve("x;IFEXISTS=TRUE")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("path ");
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void anInMemoryNameWithASemicolonOrNothingIsRefused() {
        assertThatThrownBy(() -> JdbcConversationStore.h2InMemory("db;INIT=DROP ALL OBJECTS"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("name ");
        assertThatThrownBy(() -> JdbcConversationStore.h2InMemory(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("name ");
    }

    @Test
    void theStoresOwnH2UrlsKeepEnoughParsedStatementsForATurnAndAHostsOwnSql() throws Exception {
        try (JdbcConversationStore memory = JdbcConversationStore.h2InMemory("query-cache");
             JdbcConversationStore file = JdbcConversationStore.h2File(dir.resolve("query-cache"))) {
            assertThat(memory.find("none")).isEmpty();
            assertThat(file.find("none")).isEmpty();
            for (String url : new String[] {"jdbc:h2:mem:query-cache", "jdbc:h2:file:" + dir.resolve("query-cache").toAbsolutePath()}) {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "");
                     java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT SETTING_VALUE FROM "
                             + "INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'QUERY_CACHE_SIZE'")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).as(url).isEqualTo("64");
                }
            }
        }
    }

    @Test
    void ordinaryAwkwardPathsStillWork() {
        try (JdbcConversationStore store = JdbcConversationStore.h2File(dir.resolve("with space=and-équals"))) {
            assertThat(store.find("none")).isEmpty();
        }
        assertThat(dir.resolve("with space=and-équals.mv.db")).exists();
    }
}
