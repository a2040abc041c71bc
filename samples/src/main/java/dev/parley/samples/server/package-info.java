/**
 * An HTTP server that speaks conversation APIs over one Parley engine: the repository-scoped API
 * ({@code /conversation}), the workspace-scoped API ({@code /api/v1/workspaces/{ws}/conversations}) and the
 * assistant-scoped API ({@code /api/conversation/{id}}).
 * {@link dev.parley.samples.server.ParleyServer} is the embedding pattern a host copies: one engine built from a configuration, callers built from the host's own authentication, engine error
 * codes mapped to HTTP statuses.
 *
 * <p>Audience: people running or copying the sample server; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.server;

import org.jspecify.annotations.NullMarked;
