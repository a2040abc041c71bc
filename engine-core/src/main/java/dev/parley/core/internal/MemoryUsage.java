package dev.parley.core.internal;

import dev.parley.api.Credits;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Usage;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The in-memory store's usage ledger: one entry per settled turn (stored or blocked), guarded by this object's monitor. Not API. */
public final class MemoryUsage {
    private record Entry(String organizationId, String workspaceId, String conversationId, UsageEntry meter,
                         LocalDate day, Usage usage, BigDecimal credits) {
    }

    private final List<Entry> entries = new ArrayList<>();

    /** Records a settled turn. */
    public synchronized void record(String organizationId, String workspaceId, String conversationId, UsageEntry meter,
                                    Instant at, Usage usage, Credits charged) {
        entries.add(new Entry(organizationId, workspaceId, conversationId, meter, LocalDate.ofInstant(at, ZoneOffset.UTC),
                usage, charged.used()));
    }

    /** See {@link dev.parley.api.spi.UsageLedger#usage}. */
    public synchronized Page<UsageRow> usage(String organizationId, UsageQuery q, PageRequest page) {
        record Key(LocalDate day, String key) {
        }
        Map<Key, long[]> counts = new TreeMap<>(Comparator.comparing(Key::day).reversed().thenComparing(Key::key));
        Map<Key, BigDecimal> credits = new java.util.HashMap<>();
        for (Entry e : entries) {
            if (!e.organizationId().equals(organizationId) || e.day().isBefore(q.from()) || e.day().isAfter(q.to())
                    || q.workspaceId() != null && !q.workspaceId().equals(e.workspaceId())
                    || q.userId() != null && !q.userId().equals(e.meter().userId())
                    || q.conversationId() != null && !q.conversationId().equals(e.conversationId())
                    || q.model() != null && !q.model().equals(e.meter().model())) {
                continue;
            }
            String key = switch (q.groupBy()) {
                case CONVERSATION -> e.conversationId();
                case USER -> e.meter().userId();
                case WORKSPACE -> e.workspaceId();
                case MODEL -> e.meter().model();
            };
            Key k = new Key(e.day(), key);
            long[] c = counts.computeIfAbsent(k, x -> new long[4]);
            c[0]++;
            c[1] += e.meter().promptTokens();
            c[2] += e.usage().tokensIn();
            c[3] += e.usage().tokensOut();
            credits.merge(k, e.credits(), BigDecimal::add);
        }
        List<UsageRow> rows = new ArrayList<>(counts.size());
        counts.forEach((k, c) -> rows.add(new UsageRow(k.day(), k.key(), c[0], c[1], c[2], c[3], credits.get(k))));
        return Pages.slice(rows, page);
    }

    /** The user's rows of the organization name {@code pseudonym} instead. */
    public synchronized void unlinkUser(String organizationId, String userId, String pseudonym) {
        entries.replaceAll(e -> e.organizationId().equals(organizationId) && e.meter().userId().equals(userId)
                ? new Entry(e.organizationId(), e.workspaceId(), e.conversationId(),
                new UsageEntry(pseudonym, e.meter().model(), e.meter().promptTokens()), e.day(), e.usage(), e.credits())
                : e);
    }
}
