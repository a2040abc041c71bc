package dev.parley.api;

import java.util.Objects;

/** The {@link dev.parley.api.spi.ScopeDirectory} does not know the repository. */
public class RepositoryNotFoundException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String repositoryId;

    public RepositoryNotFoundException(String repositoryId) {
        super(ErrorCode.NOT_FOUND, "repository not found: " + Objects.requireNonNull(repositoryId, "repositoryId"));
        this.repositoryId = repositoryId;
    }

    /** The id that was asked for. */
    public String repositoryId() {
        return repositoryId;
    }
}
