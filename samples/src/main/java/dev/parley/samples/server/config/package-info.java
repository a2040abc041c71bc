/**
 * The HTTP server's configuration file: its shape ({@link dev.parley.samples.server.config.ServerConfig}), how it is
 * read and checked ({@link dev.parley.samples.server.config.ConfigLoader}), and the built-in demo configuration.
 *
 * <p>Audience: people running or copying the sample server; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.server.config;

import org.jspecify.annotations.NullMarked;
