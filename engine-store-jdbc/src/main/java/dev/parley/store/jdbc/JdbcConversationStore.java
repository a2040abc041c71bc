package dev.parley.store.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.StoreFailureException;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.internal.Checks;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.CreditLedger;
import dev.parley.api.spi.PolicyRegistry;
import dev.parley.api.spi.RateLimitLedger;
import dev.parley.api.spi.UsageLedger;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.api.values.RateWindow;
import dev.parley.api.spi.ViolationLog;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.HistoryMessage;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import dev.parley.store.jdbc.internal.AuditDao;
import dev.parley.store.jdbc.internal.ConversationDao;
import dev.parley.store.jdbc.internal.ConversationQuerySql;
import dev.parley.store.jdbc.internal.CreditDao;
import dev.parley.store.jdbc.internal.LocalHolds;
import dev.parley.store.jdbc.internal.Dialect;
import dev.parley.store.jdbc.internal.MessageDao;
import dev.parley.store.jdbc.internal.Migrations;
import dev.parley.store.jdbc.internal.PolicyDao;
import dev.parley.store.jdbc.internal.RateLimitDao;
import dev.parley.store.jdbc.internal.SettingsCache;
import dev.parley.store.jdbc.internal.SqlErrors;
import dev.parley.store.jdbc.internal.StorePools;
import dev.parley.store.jdbc.internal.StreamLockDao;
import dev.parley.store.jdbc.internal.TurnDao;
import dev.parley.store.jdbc.internal.UsageDao;
import dev.parley.store.jdbc.internal.ViolationDao;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import org.jspecify.annotations.Nullable;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

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
 *   <li>A turn is one transaction: prompt, reply, claim completion, totals, audit events and policy violations,
 *       or nothing. A turn a policy blocked stores no message: its totals, events and violations, and its id
 *       settled as blocked, so that every later claim of the id is {@link TurnClaim.Blocked}.</li>
 *   <li>Message ids are claimed through a unique key, so engines sharing the database make one model call per
 *       id between them. A claim is fenced by a random token: only its holder renews, commits or releases it, and
 *       one left by a dead engine is taken over once its lease (which the running turn renews) has run out.
 *       Claiming runs no statement that fails, so a contended id leaves no errors in the database's log.</li>
 *   <li>Leases (claims and stream locks) are set and judged by the database server's clock, never an engine's:
 *       an engine whose clock runs ahead cannot take over another engine's live claim or lock.</li>
 *   <li>A page and its total are read on one snapshot, so they agree while other turns commit.</li>
 *   <li>Every query is served by an index: history tails and message pages by the (conversation, sequence)
 *       key, conversation pages by organization, workspace, owner or repository with creation time, violation
 *       pages by workspace or conversation with their time, usage reports by the organization
 *       and the report's filter with the day, rate-limit counters by their key.</li>
 *   <li>It is a {@link PolicyRegistry}: every change of a rule and the move of the registry's version are one
 *       transaction, ordered by the version row's lock, so that changes from engines sharing the database each
 *       return a distinct, increasing version. A send reads the version in the statement that reads its
 *       conversation, so checking for changed rules costs a turn no statement.</li>
 *   <li>It is a {@link CreditLedger}: it keeps model prices ({@code parley_credit_price}), one account per owner
 *       with its balance ({@code parley_credit_account}), every account's ledger ({@code parley_credit_ledger}:
 *       top-ups, adjustments, and turns' charges with their model, price and tokens), and the holds live turns
 *       reserve ({@code parley_credit_hold}), all as exact decimals ({@code NUMERIC}, read as {@code BigDecimal}
 *       at {@link dev.parley.api.Credits#SCALE} decimals). A reserve is one transaction: the owners' accounts in
 *       one statement, the account rows locked in one statement in id order (so that engines reserving on the
 *       same accounts never deadlock), their lapsed holds deleted, their live ones summed, and the hold stored on
 *       every account or none; on PostgreSQL it commits without waiting for the disk, since a hold a database
 *       crash loses only frees its credits early. An H2 database the store opened itself ({@link Builder#h2File},
 *       {@link Builder#h2InMemory}) is embedded in this JVM, which H2 locks against other processes: its holds
 *       are kept in this JVM instead, shared by every store on that database, under per-account locks taken
 *       before any transaction that changes a balance or reserves, so a reservation commits nothing. An H2
 *       database given by URL or data source keeps its holds in the table, since an H2 server may share it.
 *       A turn's charge is settled in the turn's own transaction, after every check that can refuse the commit,
 *       under the same locks: a refused commit charges nothing and keeps its hold, and no balance goes below zero
 *       or below what other live holds reserve, however many engines share the database. The reply keeps what
 *       its turn was charged ({@code credits_*} columns of {@code parley_message}), so that its replay, message
 *       pages and the history tail return the same {@link dev.parley.api.Credits}. Holds lapse by the times their
 *       callers pass, as the in-memory store's do (unlike claims and stream locks, which the database's clock
 *       judges). The statement a send begins with
 *       also tells whether the conversation's organization has any credit account, so that a turn no account
 *       applies to reserves without a statement of its own ({@link #reserve}).</li>
 *   <li>It is a {@link RateLimitLedger}: one counter row per key ({@code parley_rate_counter}) with the requests and
 *       tokens of its latest minute window. An admission is one transaction, all or none: each key's counter is
 *       changed by one atomic statement (an {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING} on
 *       PostgreSQL; on H2 an insert of a missing counter, then a conditional update) that starts a new window or
 *       counts the request only while the key is under its limits, and holds the row's lock until the transaction
 *       ends; when a key refuses, the transaction is rolled back. Keys are changed in one order in every engine, so
 *       that however many engines share the database they admit at most the limit between them, and never
 *       deadlock.</li>
 *   <li>It is a {@link UsageLedger}: a turn with a {@linkplain TurnRecord#meter() meter} (in history or not,
 *       blocked ones too) is added to its conversation's row of the day (UTC), user and model in
 *       {@code parley_usage_day}, in its commit's transaction, after every check that can refuse the commit and
 *       after its charge, with the credits charged: a turn is in the reports exactly when it is stored. Adding to
 *       an existing row writes no index; a day's first turn makes the row. A report sums the organization's rows of
 *       its days per day and key in the database ({@code GROUP BY}, exact {@code NUMERIC} sums of credits), from
 *       one range of an index that leads with the organization and the report's filter (or of the primary key, for
 *       one conversation), its page and total read on one snapshot.</li>
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
 * itself, and {@code DB_CLOSE_ON_EXIT=FALSE} if it closes the engine from a shutdown hook (else H2's own hook may
 * close the database first, and the partial replies of the streams the engine's close cancels are lost). On PostgreSQL a commit is in the server's write-ahead log when it returns; whether it survives the
 * server's machine crashing is the server's {@code fsync} and {@code synchronous_commit} settings. A JVM death
 * loses only turns that were not yet acknowledged: a turn in progress stores nothing, and its claim expires.
 *
 * <p>The H2 URLs the store builds also keep 64 parsed statements per connection ({@code QUERY_CACHE_SIZE=64};
 * H2's default of 8 is fewer than a streamed turn runs, so a host's own SQL on the same connections would make
 * H2 parse every statement of a turn again); a host passing its own H2 URL may set the same.
 *
 * <p>Times are kept at microsecond precision. Thread safe.
 */
public final class JdbcConversationStore implements ConversationStore, ViolationLog, PolicyRegistry, CreditLedger,
        RateLimitLedger, UsageLedger, dev.parley.api.spi.ConversationPurges, dev.parley.api.spi.SummaryLog {
    private final Jdbi jdbi;
    private final @Nullable HikariDataSource ownedPool;
    private final ConversationDao conversations = new ConversationDao();
    private final MessageDao messages = new MessageDao();
    private final AuditDao audit = new AuditDao();
    private final dev.parley.store.jdbc.internal.PurgeDao purges = new dev.parley.store.jdbc.internal.PurgeDao();
    private final ViolationDao violations = new ViolationDao();
    private final TurnDao turns;
    private final StreamLockDao streamLocks;
    private final PolicyDao policies;
    private final CreditDao credits;
    private final UsageDao usage;
    private final RateLimitDao rateLimits;
    private final dev.parley.store.jdbc.internal.SummaryDao summaries;
    /** Conversation settings by id and version; null when disabled. */
    private final @Nullable SettingsCache settingsCache;
    /** Compaction of the H2 file the store opened; null for any other database. */
    private final dev.parley.store.jdbc.internal.@Nullable H2FileCompaction h2Compaction;

    private JdbcConversationStore(DataSource dataSource, @Nullable HikariDataSource ownedPool, Builder b) {
        this.ownedPool = ownedPool;
        this.settingsCache = b.settingsCacheSize == 0 ? null : new SettingsCache(b.settingsCacheSize, conversations);
        try {
            Dialect dialect = Dialect.of(dataSource);
            Migrations.migrate(dataSource, dialect);
            this.credits = new CreditDao(dialect, b.localHolds == null ? null : LocalHolds.of(b.localHolds));
            this.usage = new UsageDao(dialect);
            this.rateLimits = new RateLimitDao(dialect);
            this.turns = new TurnDao(dialect, messages, audit, violations, credits, usage);
            this.streamLocks = new StreamLockDao(dialect);
            this.policies = new PolicyDao(dialect);
            this.summaries = new dev.parley.store.jdbc.internal.SummaryDao(dialect, credits, usage, audit);
            this.jdbi = Jdbi.create(dataSource);
            jdbi.getConfig(StatementExceptions.class).setMessageRendering(StatementExceptions.MessageRendering.NONE);
            this.h2Compaction = b.localHolds != null && b.localHolds.startsWith("file:")
                    ? dev.parley.store.jdbc.internal.H2FileCompaction.start(dataSource) : null;
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

    @Override
    public void insert(ConversationInfo c, AuditEvent created) {
        Objects.requireNonNull(c, "conversation");
        Objects.requireNonNull(created, "created");
        transaction("store a conversation", h -> {
            audit.insert(h, created);
            return conversations.insert(h, c);
        });
    }

    @Override
    public List<String> purgeCandidates(String organizationId, @Nullable String workspaceId,
                                        @Nullable Instant inactiveBefore, @Nullable Instant deletedBefore,
                                        @Nullable String afterId, int limit) {
        return transaction("list conversations to purge", h -> purges.candidates(h, organizationId, workspaceId,
                inactiveBefore, deletedBefore, afterId, limit));
    }

    @Override
    public List<String> ownedBy(String organizationId, String ownerId, @Nullable String afterId, int limit) {
        return transaction("list a user's conversations", h -> purges.owned(h, organizationId, ownerId, afterId, limit));
    }

    @Override
    public List<String> inOrganization(String organizationId, @Nullable String afterId, int limit) {
        return transaction("list an organization's conversations", h -> purges.ofOrganization(h, organizationId, afterId,
                limit));
    }

    @Override
    public java.util.OptionalLong purge(String conversationId, int batchSize, boolean unlinkLedger,
                                        EventFactory purged) {
        // Hide it first, so that no read or turn sees it half deleted; then a batch of messages per transaction.
        Optional<dev.parley.store.jdbc.internal.PurgeDao.Scope> scope = transaction("purge a conversation", h -> {
            Optional<dev.parley.store.jdbc.internal.PurgeDao.Scope> found = purges.scope(h, conversationId);
            found.ifPresent(x -> conversations.delete(h, conversationId, Instant.now()));
            return found;
        });
        if (scope.isEmpty()) {
            return java.util.OptionalLong.empty();
        }
        if (settingsCache != null) {
            settingsCache.invalidate(conversationId);
        }
        long deleted = 0;
        int batch;
        do {
            batch = transaction("purge a conversation's messages", h -> purges.deleteMessages(h, conversationId,
                    batchSize));
            deleted += batch;
        } while (batch > 0);
        do {
            batch = transaction("purge a conversation's message ids", h -> purges.deleteTurns(h, conversationId,
                    batchSize));
        } while (batch > 0);
        long messages = deleted;
        AuditEvent event = purged.event(scope.get().organizationId(), scope.get().workspaceId(), messages);
        transaction("purge a conversation", h -> {
            // Any message or id a turn stored after the batches goes too (none should: the conversation was hidden).
            purges.deleteMessages(h, conversationId, Integer.MAX_VALUE);
            purges.deleteTurns(h, conversationId, Integer.MAX_VALUE);
            summaries.deleteAll(h, conversationId);
            purges.deleteRest(h, conversationId, unlinkLedger);
            return audit.insert(h, event);
        });
        return java.util.OptionalLong.of(messages);
    }

    @Override
    public long eraseTagged(String conversationId, String userTag, int batchSize, EventFactory erased) {
        long changed = 0;
        int batch;
        do {
            // A summary may repeat what the user wrote: each batch deletes the summaries with the text, and ends the
            // compaction claim, so that no summary read from text before a batch is stored after it.
            batch = transaction("erase a user's messages", h -> {
                int n = purges.eraseTagged(h, conversationId, userTag, batchSize);
                if (n > 0) {
                    summaries.deleteAll(h, conversationId);
                }
                return n;
            });
            changed += batch;
        } while (batch > 0);
        if (changed > 0) {
            long count = changed;
            transaction("erase a user's messages", h -> purges.scope(h, conversationId)
                    .map(x -> audit.insert(h, erased.event(x.organizationId(), x.workspaceId(), count))).orElse(0));
        }
        return changed;
    }

    // --- summaries ---

    @Override
    public Optional<dev.parley.api.compaction.Summary> latestSummary(String conversationId) {
        return call("read a summary", h -> summaries.latest(h, conversationId));
    }

    @Override
    public List<dev.parley.api.compaction.Summary> summaries(String conversationId) {
        return call("read summaries", h -> summaries.all(h, conversationId));
    }

    @Override
    public boolean claimCompaction(String conversationId, String token, Instant at, Duration lease) {
        Objects.requireNonNull(token, "token");
        if (call("claim a compaction", h -> summaries.take(h, conversationId, token, lease))) {
            return true;
        }
        try {
            return call("claim a compaction", h -> summaries.insertClaim(h, conversationId, token, lease)) == 1;
        } catch (StoreFailureException e) {
            if (SqlErrors.isUniqueViolation(e)) {
                return false; // the conversation has a claim row: held, deferred, or inserted just now by another
            }
            throw e;
        }
    }

    @Override
    public boolean renewCompaction(String conversationId, String token, Instant at, Duration lease) {
        return call("renew a compaction claim", h -> summaries.renew(h, conversationId, token, lease));
    }

    @Override
    public Optional<dev.parley.api.compaction.Summary> commitSummary(String token,
                                                                     dev.parley.api.compaction.Summary summary,
                                                                     dev.parley.api.credits.@Nullable TurnCharge charge,
                                                                     dev.parley.api.usage.@Nullable UsageEntry meter,
                                                                     AuditEvent event) {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(event, "event");
        LocalHolds local = credits.localHolds();
        if (local == null || charge == null || !charge.hold().metered()) {
            return storeSummary(token, summary, charge, meter, event);
        }
        try (var locked = lockLocally(charge.hold().accountIds())) {
            Optional<dev.parley.api.compaction.Summary> stored = storeSummary(token, summary, charge, meter, event);
            if (stored.isPresent()) {
                local.release(charge.hold().id());
            }
            return stored;
        }
    }

    private Optional<dev.parley.api.compaction.Summary> storeSummary(String token,
                                                                     dev.parley.api.compaction.Summary summary,
                                                                     dev.parley.api.credits.@Nullable TurnCharge charge,
                                                                     dev.parley.api.usage.@Nullable UsageEntry meter,
                                                                     AuditEvent event) {
        try {
            return transaction("store a summary", h -> summaries.commit(h, token, summary, charge, meter, event));
        } catch (StoreFailureException e) {
            if (e.getCause() instanceof dev.parley.store.jdbc.internal.SummaryDao.Refused) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public dev.parley.api.Credits failCompaction(String conversationId, String token, Instant at, Duration retryAfter,
                                                 AuditEvent event, dev.parley.api.spi.SummaryLog.@Nullable Spent spent) {
        Objects.requireNonNull(event, "event");
        var charge = spent == null ? null : spent.charge();
        LocalHolds local = credits.localHolds();
        if (local == null || charge == null || !charge.hold().metered()) {
            return transaction("record a failed compaction", h -> summaries.fail(h, conversationId, token, retryAfter,
                    event, spent, at));
        }
        try (var locked = lockLocally(charge.hold().accountIds())) {
            dev.parley.api.Credits charged = transaction("record a failed compaction", h -> summaries.fail(h,
                    conversationId, token, retryAfter, event, spent, at));
            local.release(charge.hold().id());
            return charged;
        }
    }

    @Override
    public void releaseCompaction(String conversationId, String token) {
        use("end a compaction claim", h -> {
            summaries.end(h, conversationId, token);
            return 0;
        });
    }

    @Override
    public void unlinkUser(String organizationId, String userId, String pseudonym) {
        transaction("unlink a user", h -> {
            purges.unlinkUser(h, organizationId, userId, pseudonym);
            return null;
        });
    }

    @Override
    public boolean importConversation(ConversationInfo c, List<Message> all, AuditEvent imported) {
        return importConversation(c, all, List.of(), imported);
    }

    @Override
    public boolean importConversation(ConversationInfo c, List<Message> all,
                                      List<dev.parley.api.compaction.Summary> imports, AuditEvent imported) {
        Objects.requireNonNull(imports, "summaries");
        Objects.requireNonNull(c, "conversation");
        Objects.requireNonNull(all, "messages");
        Objects.requireNonNull(imported, "imported");
        try {
            return jdbi.inTransaction(h -> {
                if (conversations.exists(h, c.id())) {
                    return false;
                }
                conversations.insert(h, c, all.size());
                messages.insertAll(h, all);
                for (dev.parley.api.compaction.Summary sm : imports) {
                    summaries.insert(h, sm);
                }
                if (!imports.isEmpty()) {
                    summaries.changed(h, c.id());
                }
                audit.insert(h, imported);
                return true;
            });
        } catch (RuntimeException e) {
            // Another import of the same id committed between the check and the insert.
            if (SqlErrors.isUniqueViolation(e) && jdbi.withHandle(h -> conversations.exists(h, c.id()))) {
                return false;
            }
            throw SqlErrors.translate("import a conversation", e);
        }
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
        SettingsCache cache = settingsCache;
        if (cache == null) {
            return call("read a conversation", h -> conversations.findLive(h, conversationId));
        }
        return call("read a conversation", h -> cache.find(h, conversationId));
    }

    /**
     * The live conversation, its stream status and the policy registry's version: with the settings cache, in one
     * statement (the row state joined with the stream lock, and the version) and settings from the cache; without
     * it, two reads on one connection (that statement, then the conversation's row).
     */
    @Override
    public Optional<ConversationState> findWithStreams(String conversationId, Instant now) {
        SettingsCache cache = settingsCache;
        boolean[] accounts = new boolean[1];
        long[] summariesVersion = new long[1];
        Optional<ConversationState> state = call("read a conversation", h -> {
            Optional<ConversationDao.RowStateWithStreams> read = conversations.rowStateWithStreams(h, conversationId);
            read.ifPresent(r -> {
                accounts[0] = r.creditAccounts();
                summariesVersion[0] = r.summariesVersion();
            });
            if (cache != null) {
                return cache.findWithStreams(h, conversationId, read);
            }
            if (read.isEmpty() || read.get().row().deleted()) {
                return Optional.empty();
            }
            return conversations.findLive(h, conversationId).map(info -> new ConversationState(info,
                    read.get().streams(), read.get().policyVersion()));
        });
        return state.map(found -> (accounts[0] ? found : found.withCreditAccounts(false))
                .withSummariesVersion(summariesVersion[0]));
    }

    @Override
    public Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                                     AuditEvent updated) {
        invalidate(conversationId);
        // One UPDATE that names only the columns the patch changes: concurrent patches of other fields are kept.
        ConversationDao.SettingsPatch update = ConversationDao.settingsPatch(patch);
        return transaction("update a conversation", h -> {
            if (!conversations.updateSettings(h, conversationId, update, at)) {
                return Optional.empty();
            }
            audit.insert(h, updated);
            return conversations.findLive(h, conversationId);
        });
    }

    @Override
    public boolean delete(String conversationId, Instant at, AuditEvent deleted) {
        invalidate(conversationId);
        return transaction("delete a conversation", h -> {
            boolean live = conversations.delete(h, conversationId, at);
            if (live) {
                audit.insert(h, deleted);
            }
            return live;
        });
    }

    @Override
    public Page<ConversationInfo> list(ConversationFilter filter, PageRequest page) {
        ConversationQuerySql sql = ConversationQuerySql.of(filter);
        return snapshot("list conversations", h -> conversations.list(h, sql, page));
    }

    @Override
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        return call("read recent messages", h -> messages.recent(h, conversationId, beforeSequence, limit));
    }

    @Override
    public List<HistoryMessage> recentHistory(String conversationId, long beforeSequence, int limit) {
        return call("read recent messages", h -> messages.recentHistory(h, conversationId, beforeSequence, limit));
    }

    @Override
    public Page<Message> messages(String conversationId, PageRequest page) {
        return snapshot("read messages", h -> messages.page(h, conversationId, page));
    }

    /**
     * Claims without failing statements: a waiting engine polls this, and on PostgreSQL every failed INSERT would
     * be an ERROR with its statement in the server log. The insert is conditional (nothing when the id is claimed
     * or is another message's id); only when it inserts nothing is the existing claim read.
     */
    @Override
    public TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease) {
        for (int attempt = 0; ; attempt++) {
            String token = UUID.randomUUID().toString();
            int inserted;
            try {
                inserted = call("claim a message id",
                        h -> turns.claim(h, conversationId, promptId, token, fingerprint, at, lease));
            } catch (StoreFailureException e) {
                if (SqlErrors.isForeignKeyViolation(e)) {
                    throw new ConversationNotFoundException(conversationId);
                }
                if (!SqlErrors.isUniqueViolation(e)) {
                    throw e;
                }
                inserted = 0; // H2: a concurrent claim inserted the row between our check and our insert
            }
            if (inserted == 1) {
                return new TurnClaim.Claimed(token);
            }
            Optional<TurnClaim> existing = call("read a message id claim",
                    h -> turns.existingClaim(h, conversationId, promptId, fingerprint, at, lease));
            if (existing.isPresent()) {
                return existing.get();
            }
            if (attempt > 10) {
                // The claim keeps vanishing between our insert and our read: released each time by its holder.
                return new TurnClaim.InProgress(fingerprint);
            }
        }
    }

    @Override
    public boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease) {
        return call("renew a message id claim", h -> turns.renew(h, conversationId, promptId, token, lease));
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        var charge = turn.charge();
        LocalHolds local = credits.localHolds();
        if (local == null || charge == null || !charge.hold().metered()) {
            return commit(turn);
        }
        // Holds in this JVM: the charge's accounts stay locked until the commit has ended, and the turn's hold goes
        // only once its charge is committed (a refused commit keeps it, for the engine to release).
        try (var locked = lockLocally(charge.hold().accountIds())) {
            Message stored = commit(turn);
            local.release(charge.hold().id());
            return stored;
        }
    }

    private Message commit(TurnRecord turn) {
        return transaction("store a turn", h -> turns.commit(h, turn), e -> SqlErrors.isUniqueViolation(e)
                ? new ConversationLockedException(turn.conversationId(), "message " + turn.promptId()
                        + " was stored by another turn")
                : null);
    }

    @Override
    public void releaseTurn(String conversationId, String promptId, String token) {
        // Only the claim this token holds: one taken over by another engine after the lease stays.
        use("release a message id claim", h -> turns.release(h, conversationId, promptId, token));
    }

    @Override
    public boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        try {
            // Inserts nothing, without failing, when the conversation has a lock row already.
            int inserted = call("take a stream lock", h -> streamLocks.insert(h, conversationId, holder, lease));
            if (inserted == 1) {
                return true;
            }
        } catch (StoreFailureException e) {
            if (SqlErrors.isForeignKeyViolation(e)) {
                throw new ConversationNotFoundException(conversationId);
            }
            if (!SqlErrors.isUniqueViolation(e)) {
                throw e;
            }
        }
        // Someone holds it, or held it and died: take it over only when the lease has run out. The UPDATE is
        // atomic, so of several engines trying at once exactly one sees its row count be 1.
        return call("take over a stream lock", h -> streamLocks.takeOver(h, conversationId, holder, lease));
    }

    @Override
    public boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return call("renew a stream lock", h -> streamLocks.renew(h, conversationId, holder, lease));
    }

    @Override
    public void releaseStreamLock(String conversationId, String holder) {
        // The release and the count of ended streams in one transaction: a send that ran beside this stream and
        // commits later sees the count changed.
        transaction("release a stream lock", h -> {
            streamLocks.release(h, conversationId, holder);
            return null;
        });
    }

    @Override
    public void yieldStreamLock(String conversationId, String holder) {
        use("yield a stream lock", h -> streamLocks.delete(h, conversationId, holder));
    }

    @Override
    public StreamStatus streamStatus(String conversationId, Instant now) {
        // One statement, so one snapshot: the count and the lock agree.
        return call("read a stream lock", h -> streamLocks.status(h, conversationId));
    }

    @Override
    public boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now) {
        return call("cancel a stream", h -> streamLocks.requestCancel(h, conversationId, holderPrefix));
    }

    @Override
    public void append(AuditEvent e) {
        Objects.requireNonNull(e, "event");
        use("store an audit event", h -> audit.insert(h, e));
    }

    @Override
    public List<AuditEvent> events(String conversationId) {
        return call("read audit events", h -> audit.events(h, conversationId));
    }

    /**
     * The violations of a conversation or a workspace, newest first (ties by id, descending, in the database's
     * order of ids), deleted conversations' included. The page and its total are read on one snapshot. Both the
     * organization and the workspace of the query must match: a conversation id of another workspace lists
     * nothing.
     */
    @Override
    public Page<Violation> violations(ViolationQuery query, PageRequest page) {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(page, "page");
        return snapshot("list policy violations", h -> violations.page(h, query, page));
    }

    @Override
    public long policyVersion() {
        return call("read the policy registry's version", policies::version);
    }

    /** Every rule of the registry, enabled or not, ordered by id. */
    @Override
    public List<PolicySpec> policySpecs() {
        return call("read the policy registry", policies::all);
    }

    @Override
    public long putPolicy(PolicySpec spec) {
        Objects.requireNonNull(spec, "spec");
        return transaction("store a policy rule", h -> policies.put(h, spec));
    }

    @Override
    public boolean removePolicy(String id) {
        Objects.requireNonNull(id, "id");
        return transaction("remove a policy rule", h -> policies.remove(h, id));
    }

    @Override
    public Optional<ModelPrice> price(String model) {
        Objects.requireNonNull(model, "model");
        return call("read a credit price", h -> credits.price(h, model));
    }

    @Override
    public Map<String, ModelPrice> prices() {
        return call("read the credit prices", credits::prices);
    }

    /**
     * Sets a model's price; with {@code onlyIfAbsent}, correct however many engines put a price for the same model
     * at once: exactly one of them stores it.
     */
    @Override
    public boolean putPrice(String model, ModelPrice price, boolean onlyIfAbsent, Instant at) {
        Checks.label("model", model, 256);
        Objects.requireNonNull(price, "price");
        Objects.requireNonNull(at, "at");
        return transaction("store a credit price", h -> credits.putPrice(h, model, price, onlyIfAbsent, at));
    }

    /**
     * Opens an account; an owner's second account is refused naming {@code owner} (and an id in use naming
     * {@code accountId}), also when two engines open one for the same owner at once: the owners' unique key
     * refuses the second, which is then told apart by reading what is stored.
     */
    @Override
    public CreditAccount openAccount(String accountId, AccountOwner owner, Instant at) {
        Checks.id("accountId", accountId);
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(at, "at");
        try {
            return transaction("open a credit account", h -> credits.open(h, accountId, owner, at));
        } catch (StoreFailureException e) {
            if (!SqlErrors.isUniqueViolation(e)) {
                throw e;
            }
            InvalidRequestException refused = call("open a credit account",
                    h -> credits.openRefusal(h, accountId, owner));
            throw refused != null ? refused : new InvalidRequestException("owner", "has a credit account already");
        }
    }

    /** Reads the account; when its renewal is due, writes that first in its own transaction and reads again. */
    @Override
    public Optional<CreditAccount> account(String accountId, Instant at) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(at, "at");
        Optional<CreditAccount> read = call("read a credit account", h -> credits.account(h, accountId, at));
        return read.isPresent() && read.get().renewalDue(at) ? renewed(accountId, at) : read;
    }

    @Override
    public Optional<CreditAccount> account(AccountOwner owner, Instant at) {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(at, "at");
        Optional<CreditAccount> read = call("read a credit account", h -> credits.account(h, owner, at));
        return read.isPresent() && read.get().renewalDue(at) ? renewed(read.get().id(), at) : read;
    }

    private Optional<CreditAccount> renewed(String accountId, Instant at) {
        try (var locked = lockLocally(List.of(accountId))) {
            return transaction("renew a credit account", h -> {
                credits.renewIfDue(h, accountId, at);
                return credits.account(h, accountId, at);
            });
        }
    }

    /**
     * The locks of {@code accounts} when this JVM keeps the database's holds ({@link LocalHolds}), taken before any
     * transaction that changes their balances or reserves on them, and kept until it has ended; nothing otherwise
     * (the rows' own locks order the changes).
     */
    private LocalHolds.Locked lockLocally(List<String> accounts) {
        LocalHolds local = credits.localHolds();
        return local == null || accounts.isEmpty() ? LocalHolds.Locked.NONE : local.lock(accounts);
    }

    @Override
    public CreditAccount setTerms(String accountId, AccountTerms terms, Instant at) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(terms, "terms");
        Objects.requireNonNull(at, "at");
        try (var locked = lockLocally(List.of(accountId))) {
            return transaction("set a credit account's terms", h -> credits.setTerms(h, accountId, terms, at));
        }
    }

    @Override
    public LedgerEntry post(String entryId, String accountId, LedgerEntry.Kind kind, BigDecimal amount, String reason,
                            Instant at) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(at, "at");
        try (var locked = lockLocally(List.of(accountId))) {
            return transaction("post to a credit ledger", h -> credits.post(h, entryId, accountId, kind, amount,
                    reason, at));
        } catch (StoreFailureException e) {
            if (e.getCause() instanceof IllegalArgumentException badArgument) {
                throw badArgument; // a charge posted by hand, or an entry that cannot be (as LedgerEntry checks it)
            }
            throw e;
        }
    }

    /** An account's ledger, newest first (ties by id, descending, in the database's order of ids), on one snapshot. */
    @Override
    public Page<LedgerEntry> ledger(String accountId, PageRequest page) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(page, "page");
        return snapshot("read a credit ledger", h -> credits.ledger(h, accountId, page));
    }

    /**
     * Reserves in one transaction: the owners' accounts in one statement, and, when there are any, each locked in
     * id order, its lapsed holds deleted, its live ones summed, and the hold stored on every account or none. (A
     * send does not call it when its first read, {@link #findWithStreams}, found no credit account in the
     * conversation's organization: that read says so in {@link ConversationState#creditAccounts()}.)
     */
    @Override
    public CreditHold reserve(HoldRequest request) {
        Objects.requireNonNull(request, "request");
        if (credits.localHolds() == null) {
            return transaction("reserve credits", h -> credits.reserve(h, request));
        }
        // Holds in this JVM: the accounts first, then under their locks the balances, and the hold kept here. The
        // transaction writes only when a renewal is due, so it usually commits nothing.
        List<String> accounts = call("reserve credits", h -> credits.accounts(h, request));
        try (var locked = lockLocally(accounts)) {
            return transaction("reserve credits", h -> credits.reserve(h, request, accounts));
        }
    }

    @Override
    public boolean renewHold(String holdId, Instant at, Duration lease) {
        Objects.requireNonNull(holdId, "holdId");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(lease, "lease");
        return call("renew a credit hold", h -> credits.renew(h, holdId, at, lease));
    }

    @Override
    public void releaseHold(String holdId) {
        Objects.requireNonNull(holdId, "holdId");
        use("release a credit hold", h -> {
            credits.release(h, holdId);
            return null;
        });
    }

    /**
     * Admits in one transaction: each key's counter changed by one atomic statement, in Java's order of the keys
     * (an upsert on PostgreSQL; on H2 an insert of a missing counter, then a conditional update), each row locked
     * until the transaction ends. When a key refused, the transaction is rolled back, so that nothing is counted on
     * any key; exactly one of two engines admitting the last request of a window counts it.
     */
    @Override
    public Optional<String> admit(List<RateWindow> windows, Instant windowStart) {
        Objects.requireNonNull(windows, "windows");
        Objects.requireNonNull(windowStart, "windowStart");
        if (windows.isEmpty()) {
            return Optional.empty();
        }
        return transaction("admit a request under the rate limits", h -> {
            Optional<String> refused = rateLimits.admit(h, windows, windowStart);
            if (refused.isPresent()) {
                h.rollback(); // all or none: the keys that admitted count nothing either
            }
            return refused;
        });
    }

    @Override
    public void addTokens(List<String> keys, long tokens, Instant windowStart) {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(windowStart, "windowStart");
        if (keys.isEmpty()) {
            return;
        }
        transaction("count a turn's tokens under the rate limits", h -> {
            rateLimits.addTokens(h, keys, tokens, windowStart);
            return null;
        });
    }

    /**
     * An organization's usage report, its page and its total (the number of groups) read on one snapshot. The
     * entries are written by {@link #commitTurn}, in the turn's transaction, for every turn with a meter.
     */
    @Override
    public Page<UsageRow> usage(String organizationId, UsageQuery query, PageRequest page) {
        Objects.requireNonNull(organizationId, "organizationId");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(page, "page");
        return snapshot("read a usage report", h -> usage.usage(h, organizationId, query, page));
    }

    private void invalidate(String conversationId) {
        if (settingsCache != null) {
            settingsCache.invalidate(conversationId);
        }
    }

    /** The compaction of the H2 file the store opened, for tests; null for any other database. */
    dev.parley.store.jdbc.internal.@Nullable H2FileCompaction h2Compaction() {
        return h2Compaction;
    }

    /** Closes the connection pool if the store opened it, and stops compacting the H2 file it opened. */
    @Override
    public void close() {
        if (h2Compaction != null) {
            h2Compaction.close();
        }
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
        } catch (RuntimeException e) {
            throw SqlErrors.translate(what, e);
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
                              Function<JdbiException, @Nullable ParleyException> translate) {
        try {
            return jdbi.inTransaction(work);
        } catch (RuntimeException e) {
            throw SqlErrors.translate(what, e, translate);
        }
    }

    /** Configures a {@link JdbcConversationStore}. Not thread safe. */
    public static final class Builder {
        private @Nullable DataSource dataSource;
        private @Nullable String jdbcUrl;
        private @Nullable String user;
        private @Nullable String password;
        private int poolSize = 10;
        /** The embedded H2 database this JVM keeps the holds of, when the store opened it itself. */
        private @Nullable String localHolds;
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
            jdbcUrl(StorePools.h2FileUrl(path), "sa", "");
            localHolds = "file:" + path.toAbsolutePath().normalize();
            return this;
        }

        /**
         * A named in-memory H2 database that lives until the JVM exits.
         *
         * @throws IllegalArgumentException when the name is empty or contains {@code ;}, which H2 would read as
         *     the start of connection settings
         */
        public Builder h2InMemory(String name) {
            Objects.requireNonNull(name, "name");
            jdbcUrl(StorePools.h2MemoryUrl(name), "sa", "");
            localHolds = "mem:" + name;
            return this;
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
            HikariDataSource pool = StorePools.open(jdbcUrl, user, password, poolSize);
            return new JdbcConversationStore(pool, pool, this);
        }

        private void checkNoDatabase() {
            if (dataSource != null || jdbcUrl != null) {
                throw new IllegalStateException("the database was already set");
            }
        }
    }
}
