package dev.parley.core.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Names the holder of a stream lock so that the lock tells which message's stream holds it: a key of the message
 * id (the first 128 bits of its SHA-256, in hex), a slash, and a random part unique to this stream. A cancel
 * meant for one message's stream then matches only a lock whose holder starts with that message's key. Stateless.
 */
final class StreamHolders {
    private StreamHolders() {
    }

    /** A new holder for the stream of {@code messageId}: at most 69 chars, whatever the id's length. */
    static String holder(String messageId) {
        return prefix(messageId) + UUID.randomUUID();
    }

    /** What every holder of {@code messageId}'s streams starts with. */
    static String prefix(String messageId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(messageId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16) + "/";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
