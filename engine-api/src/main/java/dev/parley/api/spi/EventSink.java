package dev.parley.api.spi;

import dev.parley.api.values.AuditEvent;

/**
 * Receives audit events after the store has kept them, for example to forward them to the host's audit log.
 * Called on the thread of the operation; an exception thrown here is logged and otherwise ignored. Must be
 * thread safe.
 */
@FunctionalInterface
public interface EventSink {

    /** A sink that ignores every event. */
    EventSink NONE = event -> { };

    void publish(AuditEvent event);
}
