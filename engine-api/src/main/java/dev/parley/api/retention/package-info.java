/**
 * Retention and erasure: the values a host passes to {@link dev.parley.api.Maintenance} and the reports it gets
 * back. For hosts.
 */
@NullMarked
package dev.parley.api.retention;

import org.jspecify.annotations.NullMarked;
