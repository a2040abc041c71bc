/**
 * The terminal chat, {@code parley-samples chat}: a read-eval-print loop over the engine the server runs on, with
 * line editing and history, replies streamed as they arrive, and slash commands for conversations, models and
 * settings. It reads piped standard input as well, so it can be scripted.
 *
 * <p>Audience: people trying Parley from a terminal, or copying how a program streams a reply; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.chat;

import org.jspecify.annotations.NullMarked;
