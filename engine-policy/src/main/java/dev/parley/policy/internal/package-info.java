/**
 * The policies' shared parts: text folding with offsets mapped back, checksums, parameter parsing and the
 * policy factories the engine loads through {@code META-INF/services}.
 *
 * <p>Audience: engine-policy only. Nothing here is API; it may change in any release.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.policy.internal;

import org.jspecify.annotations.NullMarked;
