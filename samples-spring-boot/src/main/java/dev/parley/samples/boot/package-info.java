/**
 * A Spring Boot web application on Parley's starter: {@link dev.parley.samples.boot.ParleyBootSample} and its
 * {@link dev.parley.samples.boot.ConversationController}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.boot;

import org.jspecify.annotations.NullMarked;
