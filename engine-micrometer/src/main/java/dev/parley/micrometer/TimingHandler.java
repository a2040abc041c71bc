package dev.parley.micrometer;

import io.micrometer.common.KeyValue;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Times Parley's own observations on the meter registry, by their name and low-cardinality values, with the
 * percentiles and histogram {@link ParleyMetrics} configures: the handler of the observation registry it makes when
 * the host gives none. Thread safe.
 */
final class TimingHandler implements ObservationHandler<Observation.Context> {
    /** Where an observation's start time is kept in its context. */
    private static final Object STARTED = TimingHandler.class;

    private final ParleyMetrics metrics;

    TimingHandler(ParleyMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
        return context.getName().startsWith("parley.");
    }

    @Override
    public void onStart(Observation.Context context) {
        context.put(STARTED, System.nanoTime());
    }

    @Override
    public void onStop(Observation.Context context) {
        Long started = context.get(STARTED);
        if (started == null) {
            return;
        }
        long nanos = System.nanoTime() - started;
        List<Tag> tags = new ArrayList<>(6);
        for (KeyValue kv : context.getLowCardinalityKeyValues()) {
            tags.add(Tag.of(kv.getKey(), kv.getValue()));
        }
        metrics.timer(context.getName(), Tags.of(tags)).record(nanos, TimeUnit.NANOSECONDS);
    }
}
