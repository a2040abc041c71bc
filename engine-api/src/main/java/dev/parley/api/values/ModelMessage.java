package dev.parley.api.values;

import java.util.Objects;

/**
 * One message of a model request. Immutable and thread safe.
 *
 * @param role who speaks
 * @param text what is said
 */
public record ModelMessage(Role role, String text) {

    /** Roles of a chat model request. */
    public enum Role { SYSTEM, USER, ASSISTANT }

    public ModelMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
    }

    public static ModelMessage system(String text) {
        return new ModelMessage(Role.SYSTEM, text);
    }

    public static ModelMessage user(String text) {
        return new ModelMessage(Role.USER, text);
    }

    public static ModelMessage assistant(String text) {
        return new ModelMessage(Role.ASSISTANT, text);
    }

    @Override
    public String toString() {
        return "ModelMessage{" + role + ", chars=" + text.length() + "}";
    }
}
