package dev.parley.api.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Time-ordered ids: version-7 UUIDs whose text increases with every id, in one thread or many. */
class TimeOrderedIdsTest {

    @Test
    void eachIdIsAVersionSevenUuidWhoseTextIsGreaterThanTheOneBefore() {
        String previous = TimeOrderedIds.next();
        long before = System.currentTimeMillis();
        for (int i = 0; i < 100_000; i++) {
            String id = TimeOrderedIds.next();
            assertThat(id).hasSize(36).isGreaterThan(previous);
            previous = id;
        }
        UUID last = UUID.fromString(previous);
        assertThat(last.version()).isEqualTo(7);
        assertThat(last.variant()).isEqualTo(2);
        assertThat(last.getMostSignificantBits() >>> 16).as("milliseconds").isGreaterThanOrEqualTo(before);
    }

    @Test
    void idsMadeByManyThreadsAtOnceAreAllDistinctAndIncreaseWithinEachThread() throws Exception {
        Set<String> all = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    String previous = "";
                    boolean increasing = true;
                    for (int i = 0; i < 20_000; i++) {
                        String id = TimeOrderedIds.next();
                        increasing &= id.compareTo(previous) > 0;
                        all.add(id);
                        previous = id;
                    }
                    return increasing;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(all).hasSize(8 * 20_000);
    }
}
