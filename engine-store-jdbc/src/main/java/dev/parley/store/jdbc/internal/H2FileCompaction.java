package dev.parley.store.jdbc.internal;

import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

/**
 * Keeps an H2 file that the store opened from growing without bound. With {@code WRITE_DELAY=0} (each commit
 * written before it returns) H2 runs no background writer, and the background writer is what compacts its file:
 * every commit appends a chunk, old chunks keep a few live pages each, and the file grows by some 26 KB per commit
 * for good (1.5 GB after 60,000 small commits, measured on H2 2.3.232). This task does what that writer would: every
 * {@link #EVERY}, it moves the live pages of the emptiest chunks into new ones (at most {@link #WRITE} bytes a run),
 * so that the old chunks die and H2 reuses their space once its retention time (45 s by default, which keeps the
 * file readable after an operating system crash) has passed. The file then stays within its live data plus what
 * was written in the retention time.
 *
 * <p>It reaches H2's store through H2's own classes, which Parley pins; should they change, the task logs one warning
 * and stops, and the store keeps working without it. One daemon thread per store. Thread safe.
 */
public final class H2FileCompaction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(H2FileCompaction.class);
    /**
     * How often the task runs: often, with little to do each time, since H2 holds its store while it rewrites and
     * a commit that arrives then waits (at 4 MB a run once a second, a turn's p99 on an H2 file went from about
     * 1.2 ms to 10 ms).
     */
    static final Duration EVERY = Duration.ofMillis(125);
    /** Below this share of live data in its chunks, H2 rewrites chunks. */
    static final int TARGET_FILL_RATE = 50;
    /** Bytes of live pages rewritten at most per run: 4 MB a second in all. */
    static final int WRITE = 512 << 10;

    private final DataSource dataSource;
    private final ScheduledExecutorService executor;
    private volatile boolean failed;

    private H2FileCompaction(DataSource dataSource) {
        this.dataSource = dataSource;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parley-h2-compaction");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts compacting the H2 file behind {@code dataSource}. */
    public static H2FileCompaction start(DataSource dataSource) {
        H2FileCompaction compaction = new H2FileCompaction(dataSource);
        compaction.executor.scheduleWithFixedDelay(compaction::runQuietly, EVERY.toMillis(), EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        return compaction;
    }

    private void runQuietly() {
        if (failed) {
            return;
        }
        try {
            runOnce();
        } catch (SQLException e) {
            log.debug("could not compact the H2 file this time", e);
        } catch (RuntimeException | LinkageError e) {
            failed = true;
            log.warn("stopped compacting the H2 file: this H2 version's store cannot be reached ({}); the file will "
                    + "grow with every commit until the database is closed", e.toString());
        }
    }

    /**
     * One run: rewrites the live pages of the emptiest chunks, up to {@link #WRITE} bytes.
     *
     * @return whether anything was rewritten
     */
    public boolean runOnce() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            MVStore store = store(c);
            return store != null && !store.isClosed() && store.compact(TARGET_FILL_RATE, WRITE);
        }
    }

    /**
     * Sets how long H2 keeps dead chunks before reusing their space (45 s by default). For tests, which cannot wait
     * that long to see the file stop growing; a lower value gives up the file's readability after an operating
     * system crash that lost writes younger than it.
     */
    public void retentionTime(Duration retention) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            MVStore store = store(c);
            if (store != null) {
                store.setRetentionTime((int) retention.toMillis());
            }
        }
    }

    private static @Nullable MVStore store(Connection c) throws SQLException {
        Session session = c.unwrap(JdbcConnection.class).getSession();
        if (!(session instanceof SessionLocal local) || local.getDatabase().getStore() == null) {
            return null;
        }
        return local.getDatabase().getStore().getMvStore();
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
