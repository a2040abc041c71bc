package dev.parley.samples.server.config;

import java.util.List;

/**
 * The configuration file cannot be used: it is unreadable, is not JSON of the expected shape, or a value is
 * missing or wrong. Each problem names the JSON path of the field ({@code workspaces[1].id: must not be blank}).
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** A configuration with these problems, each {@code path: what is wrong}. */
    public ConfigException(String source, List<String> problems) {
        super("invalid configuration " + source + ":\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    /** Each problem, as {@code path: what is wrong}, in file order. */
    public List<String> problems() {
        return problems;
    }
}
