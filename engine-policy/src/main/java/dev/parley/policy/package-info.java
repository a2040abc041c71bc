/**
 * Parley's built-in governance policies: secrets, personal data, deny lists, size limits, prompt-injection
 * heuristics and an LLM judge, each a {@link dev.parley.api.spi.Policy} with a static factory, and a
 * {@link dev.parley.api.spi.PolicyFactory} per kind found through {@code META-INF/services}.
 *
 * <p>Audience: hosts that configure policy rules. Every policy is immutable and thread safe; findings carry spans
 * of the text checked and reasons that never quote what matched.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.policy;

import org.jspecify.annotations.NullMarked;
