package dev.parley.samples.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.Iterator;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * A request body read as one JSON object, strictly: not JSON, not an object, duplicate keys, trailing content and
 * fields the endpoint does not take are refused with a 400 {@link ApiException} naming the field; so are values of
 * the wrong type. Not thread safe; one per request.
 */
final class JsonBody {
    private static final int MAX_QUOTED_NAME = 64;

    private final JsonNode object;
    /** How field names are prefixed in messages: empty for the body, {@code "list[2]."} for an element. */
    private final String prefix;

    private JsonBody(JsonNode object, String prefix) {
        this.object = object;
        this.prefix = prefix;
    }

    /**
     * The body {@code bytes} as an object whose fields are all among {@code allowed}.
     *
     * @throws ApiException 400 naming {@code body} or the unknown field
     */
    static JsonBody parse(ObjectMapper mapper, byte[] bytes, Set<String> allowed) {
        if (bytes.length == 0) {
            throw ApiException.badRequest("body", "is required: a JSON object");
        }
        JsonNode node;
        try {
            node = mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            String original = e.getOriginalMessage();
            if (original != null && original.startsWith("Duplicate field")) {
                throw ApiException.badRequest("body", "has a field twice");
            }
            throw ApiException.badRequest("body", "is not valid JSON");
        } catch (IOException e) {
            throw ApiException.badRequest("body", "cannot be read");
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("body", "must be a JSON object");
        }
        return checked(node, "", allowed);
    }

    /**
     * The body {@code bytes} as in {@link #parse}, or an object with no fields when there are no bytes: for an
     * endpoint whose body is optional.
     */
    static JsonBody parseOptional(ObjectMapper mapper, byte[] bytes, Set<String> allowed) {
        if (bytes.length == 0) {
            return new JsonBody(mapper.createObjectNode(), "");
        }
        return parse(mapper, bytes, allowed);
    }

    private static JsonBody checked(JsonNode node, String prefix, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ApiException.badRequest(prefix + printable(name), "unknown field; "
                        + (prefix.isEmpty() ? "this endpoint takes " : "it takes ")
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
        return new JsonBody(node, prefix);
    }

    /** Whether the body has the field at all, null or not: how a patch tells an omitted field from a null one. */
    boolean has(String field) {
        return object.has(field);
    }

    /** Whether the body has no field. */
    boolean isEmpty() {
        return object.isEmpty();
    }

    /** The name of {@code field} in messages: with the path of this object inside the body. */
    String name(String field) {
        return prefix + field;
    }

    /** A whole-number field that may be absent or null, within {@code min} and {@code max}. */
    @Nullable Long optionalLong(String field, long min, long max) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw ApiException.badRequest(name(field), "must be a whole number");
        }
        long n = value.longValue();
        if (n < min || n > max) {
            throw ApiException.badRequest(name(field), "must be between " + min + " and " + max);
        }
        return n;
    }

    /**
     * A field that may be absent or null and is otherwise an array of objects, each with fields among
     * {@code allowed} and at most {@code maxItems} of them.
     */
    java.util.List<JsonBody> optionalObjects(String field, Set<String> allowed, int maxItems) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return java.util.List.of();
        }
        if (!value.isArray()) {
            throw ApiException.badRequest(name(field), "must be an array of objects");
        }
        if (value.size() > maxItems) {
            throw ApiException.badRequest(name(field), "must have at most " + maxItems + " items");
        }
        java.util.List<JsonBody> items = new java.util.ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode item = value.get(i);
            String path = name(field) + "[" + i + "]";
            if (!item.isObject()) {
                throw ApiException.badRequest(path, "must be an object");
            }
            items.add(checked(item, path + ".", allowed));
        }
        return java.util.List.copyOf(items);
    }

    /** A required string field. */
    String requiredText(String field) {
        String value = optionalText(field);
        if (value == null) {
            throw ApiException.badRequest(name(field), "is required");
        }
        return value;
    }

    /** A string field that may be absent or null. */
    @Nullable String optionalText(String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiException.badRequest(name(field), "must be a string");
        }
        return value.textValue();
    }

    /** A boolean field that may be absent or null. */
    @Nullable Boolean optionalBoolean(String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isBoolean()) {
            throw ApiException.badRequest(name(field), "must be true or false");
        }
        return value.booleanValue();
    }

    /**
     * A boolean given as JSON's {@code true} / {@code false} or as the string {@code "true"} / {@code "false"}; null
     * when absent or null. Any other value is refused, naming the field.
     */
    @Nullable Boolean optionalBooleanOrText(String field) {
        JsonNode value = object.get(field);
        if (value != null && value.isTextual()) {
            return switch (value.textValue()) {
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                default -> throw ApiException.badRequest(name(field), "must be true or false");
            };
        }
        return optionalBoolean(field);
    }

    /**
     * A switch given as a string: on when it is one of {@code on} (exactly), off for any other string, when absent or
     * null; a JSON boolean is taken as its value. Any other JSON type is refused.
     */
    boolean optionalSwitch(String field, Set<String> on) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        if (!value.isTextual()) {
            throw ApiException.badRequest(name(field), "must be a string (" + String.join(" or ",
                    new java.util.TreeSet<>(on)) + " turns it on)");
        }
        return on.contains(value.textValue());
    }

    /** A field name fit to quote in a message and a log: control characters escaped, long names cut. */
    private static String printable(String name) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < name.length() && sb.length() < MAX_QUOTED_NAME) {
            int cp = name.codePointAt(i);
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || type == Character.FORMAT || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
            i += Character.charCount(cp);
        }
        return i < name.length() ? sb + "…" : sb.toString();
    }
}
