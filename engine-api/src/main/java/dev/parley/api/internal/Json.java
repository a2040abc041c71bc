package dev.parley.api.internal;

import dev.parley.api.InvalidRequestException;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * A strict JSON reader and a canonical writer for the engine's own documents (conversation exports). The reader
 * accepts RFC 8259 JSON only: no comments, no trailing commas, no duplicate keys, no leading zeros, no unpaired
 * surrogates, nesting at most {@value #MAX_DEPTH} deep; it returns {@link Map} (keys in document order),
 * {@link List}, {@link String}, {@link BigDecimal}, {@link Boolean} and {@link #NULL}. Any failure is an
 * {@link InvalidRequestException} naming {@code field} and the offset, never quoting the input. The writer
 * writes keys in the order given, no whitespace, and escapes only what JSON requires plus U+2028 and U+2029.
 * Not API: may change in any release. Stateless and thread safe.
 */
public final class Json {
    /** JSON's {@code null}, distinct from a missing key. */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };
    private static final int MAX_DEPTH = 32;

    private final String text;
    private final String field;
    private int at;

    private Json(String text, String field) {
        this.text = text;
        this.field = field;
    }

    /**
     * Parses one JSON value that makes up the whole of {@code text}.
     *
     * @param field the name errors give, as the caller's API spells the input
     * @throws InvalidRequestException naming {@code field} when {@code text} is not valid JSON
     */
    public static Object parse(String field, String text) {
        if (text == null) {
            throw new InvalidRequestException(field, "is required");
        }
        Json json = new Json(text, field);
        json.space();
        Object value = json.value(0);
        json.space();
        if (json.at != text.length()) {
            throw json.fail("has content after the JSON value");
        }
        return value;
    }

    private InvalidRequestException fail(String problem) {
        return new InvalidRequestException(field, "is not valid JSON: " + problem + " at offset " + at);
    }

    private void space() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw fail("nests deeper than " + MAX_DEPTH + " levels");
        }
        if (at >= text.length()) {
            throw fail("ends where a value was expected");
        }
        char c = text.charAt(at);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return word("true", Boolean.TRUE);
            case 'f':
                return word("false", Boolean.FALSE);
            case 'n':
                return word("null", NULL);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw fail("has an unexpected character");
        }
    }

    private Object word(String word, Object value) {
        if (!text.startsWith(word, at)) {
            throw fail("has an unexpected word");
        }
        at += word.length();
        return value;
    }

    private Map<String, Object> object(int depth) {
        at++;
        Map<String, Object> members = new LinkedHashMap<>();
        space();
        if (at < text.length() && text.charAt(at) == '}') {
            at++;
            return members;
        }
        while (true) {
            space();
            if (at >= text.length() || text.charAt(at) != '"') {
                throw fail("expects a quoted member name");
            }
            String name = string();
            space();
            expect(':');
            space();
            Object value = value(depth + 1);
            if (members.put(name, value) != null) {
                throw fail("repeats a member name");
            }
            space();
            if (at < text.length() && text.charAt(at) == ',') {
                at++;
                continue;
            }
            expect('}');
            return members;
        }
    }

    private List<Object> array(int depth) {
        at++;
        List<Object> items = new ArrayList<>();
        space();
        if (at < text.length() && text.charAt(at) == ']') {
            at++;
            return items;
        }
        while (true) {
            space();
            items.add(value(depth + 1));
            space();
            if (at < text.length() && text.charAt(at) == ',') {
                at++;
                continue;
            }
            expect(']');
            return items;
        }
    }

    private void expect(char c) {
        if (at >= text.length() || text.charAt(at) != c) {
            throw fail("expects '" + c + "'");
        }
        at++;
    }

    private String string() {
        at++;
        StringBuilder out = new StringBuilder();
        while (true) {
            if (at >= text.length()) {
                throw fail("has an unterminated string");
            }
            char c = text.charAt(at++);
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                throw fail("has a control character in a string");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (at >= text.length()) {
                throw fail("has an unterminated escape");
            }
            char e = text.charAt(at++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (at + 4 > text.length()) {
                        throw fail("has a short \\u escape");
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(text.charAt(at++), 16);
                        if (digit < 0) {
                            throw fail("has a malformed \\u escape");
                        }
                        code = code * 16 + digit;
                    }
                    out.append((char) code);
                }
                default -> throw fail("has an unknown escape");
            }
        }
        String s = out.toString();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw fail("has an unpaired surrogate in a string");
            }
        }
        return s;
    }

    private BigDecimal number() {
        int start = at;
        if (text.charAt(at) == '-') {
            at++;
        }
        int digits = digits();
        if (digits == 0) {
            throw fail("has a malformed number");
        }
        if (digits > 1 && text.charAt(at - digits) == '0') {
            throw fail("has a number with a leading zero");
        }
        if (at < text.length() && text.charAt(at) == '.') {
            at++;
            if (digits() == 0) {
                throw fail("has a malformed number");
            }
        }
        if (at < text.length() && (text.charAt(at) == 'e' || text.charAt(at) == 'E')) {
            at++;
            if (at < text.length() && (text.charAt(at) == '+' || text.charAt(at) == '-')) {
                at++;
            }
            if (digits() == 0) {
                throw fail("has a malformed number");
            }
        }
        if (at - start > 64) {
            throw fail("has a number longer than 64 characters");
        }
        return new BigDecimal(text.substring(start, at));
    }

    private int digits() {
        int n = 0;
        while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
            at++;
            n++;
        }
        return n;
    }

    /** Appends {@code value} as a JSON string. */
    public static StringBuilder quote(StringBuilder out, @Nullable String value) {
        if (value == null) {
            return out.append("null");
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }
}
