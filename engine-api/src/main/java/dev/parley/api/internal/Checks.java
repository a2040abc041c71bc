package dev.parley.api.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.Limits;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Field checks shared by the value types and the engine; each failure is an {@link InvalidRequestException}
 * naming the field. Not API: may change in any release.
 */
public final class Checks {
    private Checks() {
    }

    /** A required identifier: present, not blank, short, printable. */
    public static String id(String field, String value) {
        if (value == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (value.isBlank()) {
            throw new InvalidRequestException(field, "must not be blank");
        }
        if (value.length() > Limits.MAX_ID_LENGTH) {
            throw new InvalidRequestException(field, "must be at most " + Limits.MAX_ID_LENGTH + " characters");
        }
        printable(field, value);
        wellFormed(field, value);
        return value;
    }

    /**
     * A short label such as a tag ({@code user}, {@code source}) or a model name: not blank, at most {@code max}
     * chars, well-formed, and free of control characters (a newline or ESC in a label would let it forge log
     * lines) and of invisible format characters.
     */
    public static String label(String field, String value, int max) {
        text(field, value, max);
        printable(field, value);
        return value;
    }

    /** A label that may be absent (null); when present it follows {@link #label}. */
    public static @Nullable String optionalLabel(String field, @Nullable String value, int max) {
        return value == null ? null : label(field, value, max);
    }

    /**
     * Refuses control characters (C0, DEL, C1), line and paragraph separators, and format characters (zero-width
     * spaces and joiners, bidi overrides such as U+202E, the BOM, soft hyphens): in an id or a label they are
     * invisible or reorder what a person reads, so two ids that look the same could differ, and a zero-width
     * id would pass a blank check.
     */
    private static void printable(String field, String value) {
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            if (Character.isISOControl(cp)) {
                throw new InvalidRequestException(field, "must not contain control characters");
            }
            int type = Character.getType(cp);
            if (type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                throw new InvalidRequestException(field, "must not contain invisible format characters");
            }
            i += Character.charCount(cp);
        }
    }

    /** An identifier that may be absent (null); when present it follows {@link #id}. */
    public static @Nullable String optionalId(String field, @Nullable String value) {
        return value == null ? null : id(field, value);
    }

    /** Required text: present, not blank, at most {@code max} chars, no NUL, well-formed UTF-16. */
    public static String text(String field, String value, int max) {
        if (value == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (value.isBlank()) {
            throw new InvalidRequestException(field, "must not be blank");
        }
        return optionalText(field, value, max);
    }

    /** Text that may be absent (null); when present at most {@code max} chars, no NUL, well-formed UTF-16. */
    public static @Nullable String optionalText(String field, @Nullable String value, int max) {
        if (value == null) {
            return null;
        }
        if (value.length() > max) {
            throw new InvalidRequestException(field, "must be at most " + max + " characters");
        }
        if (value.indexOf('\0') >= 0) {
            throw new InvalidRequestException(field, "must not contain NUL characters");
        }
        wellFormed(field, value);
        return value;
    }

    /** Earliest client time accepted: 0001-01-01T00:00:00Z. */
    private static final java.time.Instant EARLIEST = java.time.Instant.parse("0001-01-01T00:00:00Z");
    /** Latest client time accepted: the end of 9999, which every supported database can store. */
    private static final java.time.Instant LATEST = java.time.Instant.parse("9999-12-31T23:59:59.999999Z");

    /**
     * A client-supplied time measured against the engine's clock: not later than {@code now} plus
     * {@link Limits#MAX_CLIENT_TIME_AHEAD}, so that a client cannot pin a conversation or message at the top of
     * every newest-first list with a time far in the future. Earlier times are accepted (imported history).
     */
    public static java.time.Instant clientTime(String field, java.time.Instant value, java.time.Instant now) {
        time(field, value);
        if (value.isAfter(now.plus(Limits.MAX_CLIENT_TIME_AHEAD))) {
            throw new InvalidRequestException(field, "must not be more than "
                    + Limits.MAX_CLIENT_TIME_AHEAD.toMinutes() + " minutes ahead of the engine's clock");
        }
        return value;
    }

    /** A client-supplied time: years 1 to 9999, as every supported database stores them. */
    public static java.time.Instant time(String field, java.time.Instant value) {
        if (value == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (value.isBefore(EARLIEST) || value.isAfter(LATEST)) {
            throw new InvalidRequestException(field, "must be between years 1 and 9999");
        }
        return value;
    }

    public static List<String> snippets(String field, List<String> values) {
        if (values == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (values.size() > Limits.MAX_CONTEXT_SNIPPETS) {
            throw new InvalidRequestException(field, "must have at most " + Limits.MAX_CONTEXT_SNIPPETS + " entries");
        }
        for (String v : values) {
            text(field, v, Limits.MAX_TEXT_LENGTH);
        }
        return List.copyOf(values);
    }

    /** Refuses unpaired surrogates: they cannot be encoded to UTF-8 and would not round-trip through a store. */
    private static void wellFormed(String field, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new InvalidRequestException(field, "contains an unpaired surrogate");
            }
            if (Character.isLowSurrogate(c)) {
                throw new InvalidRequestException(field, "contains an unpaired surrogate");
            }
        }
    }
}
