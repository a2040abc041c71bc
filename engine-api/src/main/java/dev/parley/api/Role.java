package dev.parley.api;

/** Who wrote a stored message. */
public enum Role {
    USER,
    ASSISTANT
}
