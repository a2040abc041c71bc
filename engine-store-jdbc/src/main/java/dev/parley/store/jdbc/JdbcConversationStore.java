package dev.parley.store.jdbc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.ModelParameters;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.PatchValue;
import dev.parley.api.StoreFailureException;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import dev.parley.store.jdbc.internal.Rows;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.core.statement.Update;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link ConversationStore} for production: JDBI over embedded H2 (file or memory) for one process, or
 * PostgreSQL when several JVMs share conversations. Flyway creates and upgrades the schema when the store
 * opens (history table {@code parley_schema_history}, so it lives beside a host's own migrations).
 *
 * <pre>{@code
 * ConversationEngine.builder().store(JdbcConversationStore.h2File(Path.of("data/parley")))...
 * ConversationEngine.builder().store(JdbcConversationStore.of("jdbc:postgresql://db/app", "app", secret))...
 * }</pre>
 *
 * <p>Guarantees, on both databases:
 * <ul>
 *   <li>A turn is one transaction: prompt, reply, claim completion and totals, or nothing.</li>
 *   <li>Message ids are claimed through a unique key, so engines sharing the database make one model call per
 *       id between them. A claim is fenced by a random token: only its holder renews, commits or releases it, and
 *       one left by a dead engine is taken over once its lease (which the running turn renews) has run out.
 *       Claiming runs no statement that fails, so a contended id leaves no errors in the database's log.</li>
 *   <li>Leases (claims and stream locks) are set and judged by the database server's clock, never an engine's:
 *       an engine whose clock runs ahead cannot take over another engine's live claim or lock.</li>
 *   <li>A page and its total are read on one snapshot, so they agree while other turns commit.</li>
 *   <li>Every query is served by an index: history tails and message pages by the (conversation, sequence)
 *       key, conversation pages by organization, workspace, owner or repository with creation time.</li>
 *   <li>Database failures, and rows the store cannot read back, surface as {@link StoreFailureException} with
 *       the cause attached; statement
 *       exceptions carry no SQL arguments, and on the PostgreSQL pools the store opens the driver leaves row
 *       values out of its messages, so user text cannot reach logs through them. (A host that passes its own
 *       PostgreSQL data source should set the driver's {@code logServerErrorDetail=false} likewise.)</li>
 * </ul>
 *
 * <p>Durability (see {@code docs/DURABILITY.md}): a turn whose {@code send} returned, or whose stream completed,
 * has been committed, and a commit survives the death of the JVM at any moment afterwards (a crash, an
 * {@code OutOfMemoryError}, {@code kill -9}). On an H2 file the store builds ({@link #h2File}), H2 writes each
 * commit to the file before returning ({@code WRITE_DELAY=0}; H2's default would keep the last half second of
 * commits in memory); it does not force the file to the disk, so an operating system crash or power loss can
 * still lose the last commits. A host that passes its own H2 URL or data source must set {@code WRITE_DELAY=0}
 * itself. On PostgreSQL a commit is in the server's write-ahead log when it returns; whether it survives the
 * server's machine crashing is the server's {@code fsync} and {@code synchronous_commit} settings. A JVM death
 * loses only turns that were not yet acknowledged: a turn in progress stores nothing, and its claim expires.
 *
 * <p>Times are kept at microsecond precision. Thread safe.
 */
public final class JdbcConversationStore implements ConversationStore {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcConversationStore.class);
    private static final String UNIQUE_VIOLATION = "23505";
    /** A foreign key's parent row is missing: PostgreSQL's state. */
    private static final String FOREIGN_KEY_VIOLATION = "23503";
    /** A foreign key's parent row is missing: H2's state (H2 uses 23503 for a child row that still exists). */
    private static final String H2_PARENT_MISSING = "23506";
    /**
     * The settings of the H2 file URLs the store builds. {@code WRITE_DELAY=0}: H2 writes each commit to the file
     * before the commit returns, instead of up to 500 ms later from a background thread, so an acknowledged turn
     * is in the operating system's hands when the JVM dies.
     */
    static final String H2_FILE_SETTINGS = ";WRITE_DELAY=0;LOCK_TIMEOUT=10000";


    /** The live conversation by id: primary key. */
    static final String FIND_CONVERSATION = "SELECT " + Rows.CONVERSATION_COLUMNS
            + " FROM parley_conversation WHERE id = :id AND deleted_at IS NULL";
    /**
     * A conversation's history tail, newest first. Ordered by both key columns, descending, so that the database
     * walks the primary key backwards from :before and stops after :limit rows (ordering by seq alone makes H2
     * read and sort the whole conversation).
     */
    static final String RECENT_MESSAGES = "SELECT " + Rows.MESSAGE_COLUMNS
            + " FROM parley_message WHERE conversation_id = :c AND seq < :before"
            + " ORDER BY conversation_id DESC, seq DESC LIMIT :limit";
    /** A page of messages: numbered 1..n without gaps, so a page is a key range and needs no OFFSET scan. */
    static final String MESSAGES_PAGE = "SELECT " + Rows.MESSAGE_COLUMNS
            + " FROM parley_message WHERE conversation_id = :c AND seq > :from AND seq <= :to"
            + " ORDER BY conversation_id, seq";
    /** The live conversation by id with its settings version: primary key. */
    static final String FIND_CONVERSATION_VERSIONED = "SELECT settings_version, " + Rows.CONVERSATION_COLUMNS
            + " FROM parley_conversation WHERE id = :id AND deleted_at IS NULL";
    /** What a turn must read fresh: settings version, totals, times, deleted flag: primary key. */
    static final String ROW_STATE = "SELECT settings_version, tokens_in, tokens_out, updated_at, deleted_at"
            + " FROM parley_conversation WHERE id = :id";
    /** A conversation's message count: the total of its message pages. */
    static final String MESSAGE_COUNT = "SELECT message_count FROM parley_conversation WHERE id = :c AND deleted_at IS NULL";

    private final Jdbi jdbi;
    private final HikariDataSource ownedPool;
    private final Dialect dialect;
    /** Conversation settings by id and version; null when disabled. */
    private final Cache<String, CachedSettings> settingsCache;

    private JdbcConversationStore(DataSource dataSource, HikariDataSource ownedPool, Builder b) {
        this.ownedPool = ownedPool;
        this.settingsCache = b.settingsCacheSize == 0 ? null
                : Caffeine.newBuilder().maximumSize(b.settingsCacheSize).build();
        try {
            migrate(dataSource);
            this.dialect = Dialect.of(dataSource);
            this.jdbi = Jdbi.create(dataSource);
            jdbi.getConfig(StatementExceptions.class).setMessageRendering(StatementExceptions.MessageRendering.NONE);
        } catch (RuntimeException e) {
            if (ownedPool != null) {
                ownedPool.close();
            }
            throw new StoreFailureException("could not open the conversation store", e);
        }
    }

    /** A store in an H2 database file at {@code path} (H2 adds {@code .mv.db}), created if missing. */
    public static JdbcConversationStore h2File(Path path) {
        return builder().h2File(path).build();
    }

    /** A store in a named in-memory H2 database that lives until the JVM exits. */
    public static JdbcConversationStore h2InMemory(String name) {
        return builder().h2InMemory(name).build();
    }

    /** A store on a JDBC URL (PostgreSQL or H2), with a connection pool the store owns and closes. */
    public static JdbcConversationStore of(String jdbcUrl, String user, String password) {
        return builder().jdbcUrl(jdbcUrl, user, password).build();
    }

    /** A store on the host's data source; the host keeps owning (and closing) it. */
    public static JdbcConversationStore of(DataSource dataSource) {
        return builder().dataSource(dataSource).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    private static void migrate(DataSource dataSource) {
        var result = Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:dev/parley/store/jdbc/migration")
                .table("parley_schema_history")
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load()
                .migrate();
        if (result.migrationsExecuted > 0) {
            LOG.info("Applied {} schema migration(s); schema is now at version {}", result.migrationsExecuted,
                    result.targetSchemaVersion);
        }
    }

    @Override
    public void insert(ConversationInfo c, AuditEvent created) {
        Objects.requireNonNull(c, "conversation");
        Objects.requireNonNull(created, "created");
        transaction("store a conversation", h -> {
            insertEvent(h, created);
            return bindParameters(h.createUpdate("INSERT INTO parley_conversation (id, organization_id, "
                        + "workspace_id, repository_id, owner_id, personality, personality_id, brand_voice_id, "
                        + "target_audience_id, model_name, settings_version, tokens_in, tokens_out, message_count, created_at, "
                        + "updated_at, max_output_tokens, temperature, stop_sequences, response_format) VALUES (:id, :org, "
                        + ":ws, :repo, :owner, :personality, :personalityId, :brandVoiceId, :targetAudienceId, :model, 0, "
                        + ":in, :out, 0, :createdAt, :updatedAt, :max_output_tokens, :temperature, :stop_sequences, "
                        + ":response_format)"), c.modelParameters())
                .bind("id", c.id())
                .bind("org", c.organizationId())
                .bind("ws", c.workspaceId())
                .bind("repo", c.repositoryId())
                .bind("owner", c.ownerId())
                .bind("personality", c.steering().personality())
                .bind("personalityId", c.steering().personalityId())
                .bind("brandVoiceId", c.steering().brandVoiceId())
                .bind("targetAudienceId", c.steering().targetAudienceId())
                .bind("model", c.modelName())
                .bind("in", c.tokensIn())
                .bind("out", c.tokensOut())
                .bind("createdAt", Rows.utc(c.createdAt()))
                .bind("updatedAt", Rows.utc(c.updatedAt()))
                .execute();
        });
    }

    /** The columns of a conversation's model parameters, each bound with its type (null when not set). */
    private static final String PARAMETER_COLUMNS_SET = "max_output_tokens = :max_output_tokens, "
            + "temperature = :temperature, stop_sequences = :stop_sequences, response_format = :response_format, ";

    private static <S extends org.jdbi.v3.core.statement.SqlStatement<S>> S bindParameters(S statement, ModelParameters p) {
        return statement
                .bind("max_output_tokens", p.maxOutputTokens().isPresent() ? Integer.valueOf(p.maxOutputTokens().getAsInt()) : null)
                .bind("temperature", p.temperature().isPresent() ? Double.valueOf(p.temperature().getAsDouble()) : null)
                .bind("stop_sequences", Rows.stopSequences(p.stopSequences()))
                .bind("response_format", p.responseFormat().map(Enum::name).orElse(null));
    }

    /**
     * The live conversation. Its settings (steering, model, scope) come from the cache when the row's
     * {@code settings_version} is the cached one; its totals and times are always read.
     *
     * <p>Why this is correct with several engines on one database: settings change only through
     * {@link #updateSettings} and {@link #delete}, and both bump {@code settings_version} in the same statement
     * that changes them. A cache entry holds the settings of exactly one version, and this method reads the
     * row's current version (with the totals, times and deleted flag that change on every turn) before it uses
     * the entry. A change committed by any engine before that read therefore has a version no entry was made
     * for, and is read in full; there is no window in which a stale entry is used. The cache only saves moving
     * settings (up to 16 KiB of personality text) on every turn; it is bounded by size, and entries of changed
     * or deleted conversations are dropped when this engine changes them or next finds them changed.
     */
    @Override
    public Optional<ConversationInfo> find(String conversationId) {
        if (settingsCache == null) {
            return call("read a conversation", h -> findLive(h, conversationId));
        }
        return call("read a conversation", h -> {
            Optional<RowState> state = h.createQuery(ROW_STATE).bind("id", conversationId)
                    .map((rs, ctx) -> new RowState(rs.getLong("settings_version"), rs.getLong("tokens_in"),
                            rs.getLong("tokens_out"), rs.getObject("updated_at", OffsetDateTime.class).toInstant(),
                            rs.getObject("deleted_at", OffsetDateTime.class) != null))
                    .findOne();
            if (state.isEmpty() || state.get().deleted()) {
                settingsCache.invalidate(conversationId);
                return Optional.empty();
            }
            RowState row = state.get();
            CachedSettings cached = settingsCache.getIfPresent(conversationId);
            if (cached != null && cached.version() == row.version()) {
                ConversationInfo c = cached.info();
                return Optional.of(new ConversationInfo(c.id(), c.organizationId(), c.workspaceId(), c.repositoryId(),
                        c.ownerId(), c.steering(), c.modelName(), row.tokensIn(), row.tokensOut(), c.createdAt(),
                        row.updatedAt(), c.modelParameters()));
            }
            Optional<CachedSettings> fresh = h.createQuery(FIND_CONVERSATION_VERSIONED).bind("id", conversationId)
                    .map((rs, ctx) -> new CachedSettings(rs.getLong("settings_version"), Rows.CONVERSATION.map(rs, ctx)))
                    .findOne();
            fresh.ifPresentOrElse(f -> settingsCache.put(conversationId, f), () -> settingsCache.invalidate(conversationId));
            return fresh.map(CachedSettings::info);
        });
    }

    /** The settings of one version of a conversation row (totals and times in it are those of that read). */
    private record CachedSettings(long version, ConversationInfo info) {
    }

    /** What changes on every turn, and the version of what does not. */
    private record RowState(long version, long tokensIn, long tokensOut, Instant updatedAt, boolean deleted) {
    }

    private static Optional<ConversationInfo> findLive(Handle h, String conversationId) {
        return h.createQuery(FIND_CONVERSATION)
                .bind("id", conversationId)
                .map(Rows.CONVERSATION)
                .findOne();
    }

    @Override
    public Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                                     AuditEvent updated) {
        invalidate(conversationId);
        // One UPDATE that names only the columns the patch changes: concurrent patches of other fields are kept.
        Map<String, PatchValue<String>> columns = new LinkedHashMap<>();
        columns.put("personality", patch.personality());
        columns.put("personality_id", patch.personalityId());
        columns.put("brand_voice_id", patch.brandVoiceId());
        columns.put("target_audience_id", patch.targetAudienceId());
        columns.put("model_name", patch.modelName());
        StringBuilder set = new StringBuilder("UPDATE parley_conversation SET ");
        columns.forEach((column, value) -> {
            if (!value.isKeep()) {
                set.append(column).append(" = :").append(column).append(", ");
            }
        });
        if (!patch.modelParameters().isKeep()) {
            set.append(PARAMETER_COLUMNS_SET); // replaced as a whole: every one of its columns is set
        }
        set.append("updated_at = :at, settings_version = settings_version + 1 WHERE id = :id AND deleted_at IS NULL");
        return transaction("update a conversation", h -> {
            Update update = h.createUpdate(set.toString()).bind("at", Rows.utc(at)).bind("id", conversationId);
            columns.forEach((column, value) -> {
                if (!value.isKeep()) {
                    update.bind(column, value.applyTo(null));
                }
            });
            if (!patch.modelParameters().isKeep()) {
                // A cleared set (null) sets every column to null, as NONE does.
                bindParameters(update, Objects.requireNonNullElse(patch.modelParameters().applyTo(null), ModelParameters.NONE));
            }
            if (update.execute() == 0) {
                return Optional.empty();
            }
            insertEvent(h, updated);
            return findLive(h, conversationId);
        });
    }

    @Override
    public boolean delete(String conversationId, Instant at, AuditEvent deleted) {
        invalidate(conversationId);
        return transaction("delete a conversation", h -> {
            boolean live = h.createUpdate("UPDATE parley_conversation SET deleted_at = :at, "
                            + "settings_version = settings_version + 1 WHERE id = :id AND deleted_at IS NULL")
                    .bind("at", Rows.utc(at))
                    .bind("id", conversationId)
                    .execute() > 0;
            if (live) {
                insertEvent(h, deleted);
            }
            return live;
        });
    }

    @Override
    public Page<ConversationInfo> list(ConversationFilter filter, PageRequest page) {
        ConversationQuerySql sql = ConversationQuerySql.of(filter);
        return snapshot("list conversations", h -> {
            long total = sql.bind(h.createQuery(sql.count())).mapTo(Long.class).one();
            List<ConversationInfo> items = sql.bind(h.createQuery(sql.page()))
                    .bind("limit", page.size())
                    .bind("offset", page.offset())
                    .map(Rows.CONVERSATION)
                    .list();
            return Page.of(items, page, total);
        });
    }

    @Override
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        return call("read recent messages", h -> h.createQuery(RECENT_MESSAGES)
                .bind("c", conversationId)
                .bind("before", beforeSequence)
                .bind("limit", limit)
                .map(Rows.MESSAGE)
                .list());
    }

    @Override
    public Page<Message> messages(String conversationId, PageRequest page) {
        return snapshot("read messages", h -> {
            Optional<Long> count = h.createQuery(MESSAGE_COUNT)
                    .bind("c", conversationId)
                    .mapTo(Long.class)
                    .findOne();
            if (count.isEmpty()) {
                return Page.<Message>of(List.of(), page, 0);
            }
            long total = count.get();
            List<Message> items = h.createQuery(MESSAGES_PAGE)
                    .bind("c", conversationId)
                    .bind("from", page.offset())
                    .bind("to", page.offset() + page.size())
                    .map(Rows.MESSAGE)
                    .list();
            return Page.of(items, page, total);
        });
    }

    /**
     * Claims without failing statements: a waiting engine polls this, and on PostgreSQL every failed INSERT would
     * be an ERROR with its statement in the server log. The insert is conditional (nothing when the id is claimed
     * or is another message's id); only when it inserts nothing is the existing claim read.
     */
    @Override
    public TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease) {
        for (int attempt = 0; ; attempt++) {
            String token = java.util.UUID.randomUUID().toString();
            int inserted;
            try {
                inserted = call("claim a message id", h -> h.createUpdate(dialect.claimInsert())
                        .bind("c", conversationId)
                        .bind("p", promptId)
                        .bind("token", token)
                        .bind("fp", fingerprint)
                        .bind("at", Rows.utc(at))
                        .bind("leaseMs", lease.toMillis())
                        .execute());
            } catch (StoreFailureException e) {
                if (isForeignKeyViolation(e)) {
                    throw new ConversationNotFoundException(conversationId);
                }
                if (!hasSqlState(e, UNIQUE_VIOLATION)) {
                    throw e;
                }
                inserted = 0; // H2: a concurrent claim inserted the row between our check and our insert
            }
            if (inserted == 1) {
                return new TurnClaim.Claimed(token);
            }
            Optional<TurnClaim> existing = call("read a message id claim",
                    h -> existingClaim(h, conversationId, promptId, fingerprint, at, lease));
            if (existing.isPresent()) {
                return existing.get();
            }
            if (attempt > 10) {
                // The claim keeps vanishing between our insert and our read: released each time by its holder.
                return new TurnClaim.InProgress(fingerprint);
            }
        }
    }

    /** One row of parley_turn. */
    private record ClaimRow(String status, long replySeq, String token, String fingerprint, boolean expired) {
    }

    /**
     * The state of an id the conditional insert did not claim: a claim another turn holds or finished, a claim
     * whose lease ran out (taken over here), or another message's id. Empty when the claim was released meanwhile.
     */
    private Optional<TurnClaim> existingClaim(Handle h, String conversationId, String promptId, String fingerprint,
                                              Instant now, Duration lease) {
        // Whether the lease ran out is the database's judgement, by its own clock (see Dialect).
        Optional<ClaimRow> found = h.createQuery("SELECT status, reply_seq, claim_token, fingerprint, CASE WHEN "
                        + "expires_at IS NULL OR expires_at < " + Dialect.NOW + " THEN TRUE ELSE FALSE END AS expired "
                        + "FROM parley_turn WHERE conversation_id = :c AND prompt_id = :p")
                .bind("c", conversationId)
                .bind("p", promptId)
                .map((rs, ctx) -> new ClaimRow(rs.getString("status"), rs.getLong("reply_seq"),
                        rs.getString("claim_token"), rs.getString("fingerprint"), rs.getBoolean("expired")))
                .findOne();
        if (found.isEmpty()) {
            boolean idInUse = h.createQuery("SELECT COUNT(*) FROM parley_message WHERE conversation_id = :c AND id = :p")
                    .bind("c", conversationId)
                    .bind("p", promptId)
                    .mapTo(Long.class)
                    .one() > 0;
            return idInUse ? Optional.of(new TurnClaim.IdInUse()) : Optional.empty();
        }
        ClaimRow row = found.get();
        String kept = row.fingerprint() == null ? "" : row.fingerprint();
        if ("COMPLETE".equals(row.status())) {
            Optional<Message> reply = h.createQuery("SELECT " + Rows.MESSAGE_COLUMNS
                            + " FROM parley_message WHERE conversation_id = :c AND seq = :seq")
                    .bind("c", conversationId)
                    .bind("seq", row.replySeq())
                    .map(Rows.MESSAGE)
                    .findOne();
            if (reply.isEmpty()) {
                throw new StoreFailureException("the store holds a completed claim without its reply", null);
            }
            return Optional.of(new TurnClaim.Completed(reply.get(), kept));
        }
        if (row.expired()) {
            // The holder neither finished nor renewed within its lease: presumed dead. Take the claim over under a
            // new token, unless another engine took it first (compare-and-set on the old token).
            String token = java.util.UUID.randomUUID().toString();
            int taken = h.createUpdate("UPDATE parley_turn SET claim_token = :token, fingerprint = :fp, "
                            + "claimed_at = :now, expires_at = " + dialect.leaseEnd() + " WHERE conversation_id = :c "
                            + "AND prompt_id = :p AND status = 'PENDING' AND (expires_at IS NULL OR expires_at < "
                            + Dialect.NOW + ") AND " + (row.token() == null ? "claim_token IS NULL" : "claim_token = :old"))
                    .bind("token", token)
                    .bind("fp", fingerprint)
                    .bind("now", Rows.utc(now))
                    .bind("leaseMs", lease.toMillis())
                    .bind("c", conversationId)
                    .bind("p", promptId)
                    .bind("old", row.token())
                    .execute();
            if (taken == 1) {
                LOG.warn("Took over the claim of a message in conversation {}: its holder neither finished nor "
                        + "renewed it within its lease", conversationId);
                return Optional.of(new TurnClaim.Claimed(token));
            }
        }
        return Optional.of(new TurnClaim.InProgress(kept));
    }

    @Override
    public boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease) {
        return call("renew a message id claim", h -> h.createUpdate("UPDATE parley_turn SET expires_at = "
                        + dialect.leaseEnd() + " WHERE conversation_id = :c AND prompt_id = :p AND status = 'PENDING' "
                        + "AND claim_token = :token")
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .bind("p", promptId)
                .bind("token", token)
                .execute() == 1);
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        return transaction("store a turn", h -> {
            int added = turn.inHistory() ? 2 : 0;
            boolean fenced = turn.streamsEnded().isPresent();
            // A send's turn is fenced against streams in this same statement: no live lock, none ended since.
            int live = h.createUpdate("UPDATE parley_conversation SET tokens_in = tokens_in + :in, "
                            + "tokens_out = tokens_out + :out, message_count = message_count + :added, "
                            + "updated_at = :at WHERE id = :id AND deleted_at IS NULL" + (fenced ? STREAM_FENCE : ""))
                    .bind("in", turn.usage().tokensIn())
                    .bind("out", turn.usage().tokensOut())
                    .bind("added", added)
                    .bind("at", Rows.utc(turn.at()))
                    .bind("id", turn.conversationId())
                    .bind("ended", turn.streamsEnded().orElse(0))
                    .execute();
            if (live == 0) {
                if (fenced && h.createQuery("SELECT COUNT(*) FROM parley_conversation WHERE id = :id "
                                + "AND deleted_at IS NULL")
                        .bind("id", turn.conversationId())
                        .mapTo(Long.class)
                        .one() > 0) {
                    throw new ConversationLockedException(turn.conversationId(),
                            "a stream ran on the conversation while this turn did; the turn was not stored");
                }
                throw new ConversationNotFoundException(turn.conversationId());
            }
            // The turn's own events, in its transaction: rolled back with it when anything below refuses it.
            for (AuditEvent e : turn.events()) {
                insertEvent(h, e);
            }
            if (!turn.inHistory()) {
                return Rows.stored(turn.reply());
            }
            // The UPDATE above holds the conversation's row lock until commit: no other turn can number
            // messages of this conversation in between.
            long count = h.createQuery("SELECT message_count FROM parley_conversation WHERE id = :id")
                    .bind("id", turn.conversationId())
                    .mapTo(Long.class)
                    .one();
            Message prompt = Rows.stored(turn.prompt()).withSequence(count - 1);
            Message reply = Rows.stored(turn.reply()).withSequence(count);
            insertMessage(h, prompt);
            insertMessage(h, reply);
            if (turn.claimToken() != null) {
                // Complete only the claim this turn still holds: one taken over after its lease is another
                // turn's, and this turn must store nothing (the exception rolls the transaction back).
                int completed = h.createUpdate("UPDATE parley_turn SET status = 'COMPLETE', reply_seq = :seq, "
                                + "claim_token = NULL WHERE conversation_id = :c AND prompt_id = :p "
                                + "AND status = 'PENDING' AND claim_token = :token")
                        .bind("seq", reply.sequence())
                        .bind("c", turn.conversationId())
                        .bind("p", turn.promptId())
                        .bind("token", turn.claimToken())
                        .execute();
                if (completed == 0) {
                    throw new ConversationLockedException(turn.conversationId(), "the claim of message "
                            + turn.promptId() + " was taken over by another turn");
                }
            } else {
                // No claim was made (a pipeline without the idempotency stage): record the id as complete now.
                // If another turn claimed or completed this id meanwhile, the unique key refuses it and nothing
                // is stored.
                h.createUpdate("INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq, claimed_at, "
                                + "fingerprint) VALUES (:c, :p, 'COMPLETE', :seq, :at, :fp)")
                        .bind("c", turn.conversationId())
                        .bind("p", turn.promptId())
                        .bind("seq", reply.sequence())
                        .bind("at", Rows.utc(turn.at()))
                        .bind("fp", turn.fingerprint().isEmpty() ? null : turn.fingerprint())
                        .execute();
            }
            return reply;
        }, e -> hasSqlState(e, UNIQUE_VIOLATION)
                ? new ConversationLockedException(turn.conversationId(), "message " + turn.promptId()
                        + " was stored by another turn")
                : null);
    }

    private static void insertMessage(Handle h, Message m) {
        h.createUpdate("INSERT INTO parley_message (" + Rows.MESSAGE_COLUMNS + ") VALUES (:c, :seq, :id, :role, "
                        + ":body, :tokens, :model, :user, :source, :status, :at, :usageIn, :usageOut)")
                .bind("c", m.conversationId())
                .bind("seq", m.sequence())
                .bind("id", m.id())
                .bind("role", m.role().name())
                .bind("body", m.text())
                .bind("tokens", m.tokens())
                .bind("model", m.model())
                .bind("user", m.user())
                .bind("source", m.source())
                .bind("status", m.status().name())
                .bind("at", Rows.utc(m.createdAt()))
                .bind("usageIn", m.usage() == null ? null : m.usage().tokensIn())
                .bind("usageOut", m.usage() == null ? null : m.usage().tokensOut())
                .execute();
    }

    @Override
    public void releaseTurn(String conversationId, String promptId, String token) {
        // Only the claim this token holds: one taken over by another engine after the lease stays.
        use("release a message id claim", h -> h.createUpdate("DELETE FROM parley_turn WHERE conversation_id = :c "
                        + "AND prompt_id = :p AND status = 'PENDING' AND claim_token = :token")
                .bind("c", conversationId)
                .bind("p", promptId)
                .bind("token", token)
                .execute());
    }

    @Override
    public boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        try {
            // Inserts nothing, without failing, when the conversation has a lock row already.
            int inserted = call("take a stream lock", h -> h.createUpdate(dialect.streamLockInsert())
                    .bind("c", conversationId)
                    .bind("holder", holder)
                    .bind("leaseMs", lease.toMillis())
                    .execute());
            if (inserted == 1) {
                return true;
            }
        } catch (StoreFailureException e) {
            if (isForeignKeyViolation(e)) {
                throw new ConversationNotFoundException(conversationId);
            }
            if (!hasSqlState(e, UNIQUE_VIOLATION)) {
                throw e;
            }
        }
        // Someone holds it, or held it and died: take it over only when the lease has run out. The UPDATE is
        // atomic, so of several engines trying at once exactly one sees its row count be 1.
        return call("take over a stream lock", h -> h.createUpdate("UPDATE parley_stream_lock SET holder = :holder, "
                        + "expires_at = " + dialect.leaseEnd() + ", cancel_requested = FALSE WHERE conversation_id = :c "
                        + "AND expires_at < " + Dialect.NOW)
                .bind("holder", holder)
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .execute() == 1);
    }

    @Override
    public boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return call("renew a stream lock", h -> h.createUpdate("UPDATE parley_stream_lock SET expires_at = "
                        + dialect.leaseEnd() + " WHERE conversation_id = :c AND holder = :holder")
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .bind("holder", holder)
                .execute() == 1);
    }

    @Override
    public void releaseStreamLock(String conversationId, String holder) {
        // The release and the count of ended streams in one transaction: a send that ran beside this stream and
        // commits later sees the count changed.
        transaction("release a stream lock", h -> {
            if (deleteStreamLock(h, conversationId, holder) == 1) {
                h.createUpdate("UPDATE parley_conversation SET streams_ended = streams_ended + 1 WHERE id = :c")
                        .bind("c", conversationId)
                        .execute();
            }
            return null;
        });
    }

    @Override
    public void yieldStreamLock(String conversationId, String holder) {
        use("yield a stream lock", h -> deleteStreamLock(h, conversationId, holder));
    }

    private static int deleteStreamLock(Handle h, String conversationId, String holder) {
        return h.createUpdate("DELETE FROM parley_stream_lock WHERE conversation_id = :c AND holder = :holder")
                .bind("c", conversationId)
                .bind("holder", holder)
                .execute();
    }

    /** A conversation's count of ended streams and its live stream lock, if any (a send reads it first). */
    static final String STREAM_STATUS = "SELECT c.streams_ended, l.holder, l.expires_at, l.cancel_requested "
            + "FROM parley_conversation c LEFT JOIN parley_stream_lock l ON l.conversation_id = c.id "
            + "AND l.expires_at >= " + Dialect.NOW + " WHERE c.id = :c";

    /** The condition a send's commit adds: no live stream lock, and no stream ended since the send began. */
    private static final String STREAM_FENCE = " AND streams_ended = :ended AND NOT EXISTS (SELECT 1 FROM "
            + "parley_stream_lock WHERE conversation_id = :id AND expires_at >= " + Dialect.NOW + ")";

    @Override
    public StreamStatus streamStatus(String conversationId, Instant now) {
        // One statement, so one snapshot: the count and the lock agree.
        return call("read a stream lock", h -> h.createQuery(STREAM_STATUS)
                .bind("c", conversationId)
                .map((rs, ctx) -> {
                    String holder = rs.getString("holder");
                    Optional<StreamLock> lock = holder == null ? Optional.empty() : Optional.of(new StreamLock(
                            conversationId, holder, rs.getObject("expires_at", OffsetDateTime.class).toInstant(),
                            rs.getBoolean("cancel_requested")));
                    return new StreamStatus(rs.getLong("streams_ended"), lock);
                })
                .findOne()
                .orElseGet(() -> new StreamStatus(0, Optional.empty())));
    }

    @Override
    public boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now) {
        return call("cancel a stream", h -> h.createUpdate("UPDATE parley_stream_lock SET cancel_requested = TRUE "
                        + "WHERE conversation_id = :c AND expires_at >= " + Dialect.NOW + " AND LEFT(holder, :n) = :prefix")
                .bind("c", conversationId)
                .bind("n", holderPrefix.length())
                .bind("prefix", holderPrefix)
                .execute() == 1);
    }

    @Override
    public void append(AuditEvent e) {
        Objects.requireNonNull(e, "event");
        use("store an audit event", h -> insertEvent(h, e));
    }

    private static int insertEvent(Handle h, AuditEvent e) {
        return h.createUpdate("INSERT INTO parley_event (id, type, conversation_id, "
                        + "organization_id, workspace_id, actor_id, occurred_at, detail) "
                        + "VALUES (:id, :type, :c, :org, :ws, :actor, :at, :detail)")
                .bind("id", e.id())
                .bind("type", e.type().name())
                .bind("c", e.conversationId())
                .bind("org", e.organizationId())
                .bind("ws", e.workspaceId())
                .bind("actor", e.actorId())
                .bind("at", Rows.utc(e.at()))
                .bind("detail", e.detail())
                .execute();
    }

    @Override
    public List<AuditEvent> events(String conversationId) {
        return call("read audit events", h -> h.createQuery("SELECT " + Rows.EVENT_COLUMNS
                        + " FROM parley_event WHERE conversation_id = :c ORDER BY conversation_id, ordinal")
                .bind("c", conversationId)
                .map(Rows.EVENT)
                .list());
    }

    private void invalidate(String conversationId) {
        if (settingsCache != null) {
            settingsCache.invalidate(conversationId);
        }
    }

    /** Closes the connection pool if the store opened it. */
    @Override
    public void close() {
        if (ownedPool != null) {
            ownedPool.close();
        }
    }

    private void use(String what, HandleCallback<?, RuntimeException> work) {
        call(what, work);
    }

    /**
     * Runs {@code work} on a connection. Besides database failures, whatever else escapes the work (a row that
     * cannot be read back: an unknown status, a reply missing behind a completed claim) is a store failure too:
     * the caller's request was fine, the stored data or the database was not.
     */
    private <T> T call(String what, HandleCallback<T, RuntimeException> work) {
        try {
            return jdbi.withHandle(work);
        } catch (ParleyException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreFailureException("the store could not " + what, e);
        }
    }

    /**
     * Runs the reads of {@code work} on one snapshot of the database (a REPEATABLE READ transaction on both
     * databases), so that a page and its total agree however many turns commit meanwhile.
     */
    private <T> T snapshot(String what, HandleCallback<T, RuntimeException> work) {
        return call(what, h -> h.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, work));
    }

    private <T> T transaction(String what, HandleCallback<T, RuntimeException> work) {
        return transaction(what, work, e -> null);
    }

    /** Runs {@code work} in one transaction; {@code translate} may turn a database failure into a typed error. */
    private <T> T transaction(String what, HandleCallback<T, RuntimeException> work,
                              java.util.function.Function<JdbiException, ParleyException> translate) {
        try {
            return jdbi.inTransaction(work);
        } catch (ParleyException e) {
            throw e;
        } catch (JdbiException e) {
            ParleyException typed = translate.apply(e);
            if (typed != null) {
                throw typed;
            }
            throw new StoreFailureException("the store could not " + what, e);
        } catch (RuntimeException e) {
            throw new StoreFailureException("the store could not " + what, e);
        }
    }

    private static boolean isForeignKeyViolation(Throwable e) {
        return hasSqlState(e, FOREIGN_KEY_VIOLATION) || hasSqlState(e, H2_PARENT_MISSING);
    }

    private static boolean hasSqlState(Throwable e, String state) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && state.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** Configures a {@link JdbcConversationStore}. Not thread safe. */
    public static final class Builder {
        private DataSource dataSource;
        private String jdbcUrl;
        private String user;
        private String password;
        private int poolSize = 10;
        private long settingsCacheSize = 10_000;

        private Builder() {
        }

        /** The host's data source, which the host keeps owning. */
        public Builder dataSource(DataSource dataSource) {
            checkNoDatabase();
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
            return this;
        }

        /** A JDBC URL; the store opens a connection pool on it and closes the pool on close. */
        public Builder jdbcUrl(String jdbcUrl, String user, String password) {
            checkNoDatabase();
            this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            this.user = user;
            this.password = password;
            return this;
        }

        /**
         * An H2 database file at {@code path}, created if missing. Every commit is written to the file before it
         * returns ({@code WRITE_DELAY=0}), so that a turn whose {@code send} returned survives the JVM being
         * killed; see the class documentation for what an operating system crash can still lose.
         *
         * @throws IllegalArgumentException when the path contains {@code ;}, which H2 would read as the start
         *     of connection settings
         */
        public Builder h2File(Path path) {
            Objects.requireNonNull(path, "path");
            return jdbcUrl("jdbc:h2:file:" + h2Name("path", path.toAbsolutePath().toString()) + H2_FILE_SETTINGS, "sa", "");
        }

        /**
         * A named in-memory H2 database that lives until the JVM exits.
         *
         * @throws IllegalArgumentException when the name is empty or contains {@code ;}, which H2 would read as
         *     the start of connection settings
         */
        public Builder h2InMemory(String name) {
            Objects.requireNonNull(name, "name");
            return jdbcUrl("jdbc:h2:mem:" + h2Name("name", name) + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000", "sa", "");
        }

        /**
         * The database part of an H2 URL, refused when H2 would read more into it than a name: a {@code ;}
         * starts H2's connection settings (a path such as {@code "x;INIT=RUNSCRIPT FROM '...'"} would run SQL).
         */
        private static String h2Name(String parameter, String value) {
            if (value.isEmpty()) {
                throw new IllegalArgumentException(parameter + " must not be empty");
            }
            if (value.indexOf(';') >= 0) {
                throw new IllegalArgumentException(parameter + " must not contain ';' (H2 reads what follows as "
                        + "connection settings): " + value);
            }
            return value;
        }

        /** Connections in the pool the store opens; 10 by default. */
        public Builder poolSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("pool size must be at least 1, was " + size);
            }
            this.poolSize = size;
            return this;
        }

        /**
         * How many conversations' settings the store caches (see {@link JdbcConversationStore#find}); 10,000
         * by default, 0 turns the cache off.
         */
        public Builder settingsCacheSize(long conversations) {
            if (conversations < 0) {
                throw new IllegalArgumentException("settings cache size must not be negative, was " + conversations);
            }
            this.settingsCacheSize = conversations;
            return this;
        }

        /**
         * Opens the store and brings its schema up to date.
         *
         * @throws StoreFailureException when the database cannot be reached or migrated
         */
        public JdbcConversationStore build() {
            if (dataSource != null) {
                return new JdbcConversationStore(dataSource, null, this);
            }
            if (jdbcUrl == null) {
                throw new IllegalStateException("no database: set dataSource, jdbcUrl, h2File or h2InMemory");
            }
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl);
            config.setUsername(user);
            config.setPassword(password);
            config.setMaximumPoolSize(poolSize);
            config.setPoolName("parley");
            if (jdbcUrl.startsWith("jdbc:postgresql:")) {
                // Keep row values out of the driver's exception messages ("Failing row contains ..."), so that
                // user text cannot reach logs through a StoreFailureException's cause.
                config.addDataSourceProperty("logServerErrorDetail", "false");
            }
            HikariDataSource pool;
            try {
                pool = new HikariDataSource(config);
            } catch (RuntimeException e) {
                throw new StoreFailureException("could not connect to the conversation store database", e);
            }
            return new JdbcConversationStore(pool, pool, this);
        }

        private void checkNoDatabase() {
            if (dataSource != null || jdbcUrl != null) {
                throw new IllegalStateException("the database was already set");
            }
        }
    }
}
