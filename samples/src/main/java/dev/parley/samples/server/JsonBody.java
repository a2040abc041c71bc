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

    private JsonBody(JsonNode object) {
        this.object = object;
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
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ApiException.badRequest(printable(name), "unknown field; this endpoint takes "
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
        return new JsonBody(node);
    }

    /** A required string field. */
    String requiredText(String field) {
        String value = optionalText(field);
        if (value == null) {
            throw ApiException.badRequest(field, "is required");
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
            throw ApiException.badRequest(field, "must be a string");
        }
        return value.textValue();
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
