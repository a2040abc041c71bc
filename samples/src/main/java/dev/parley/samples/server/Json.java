package dev.parley.samples.server;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.parley.api.Page;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/** Writes response bodies: JSON objects with their fields in the order given, decimals written plainly. Thread safe. */
final class Json {
    private static final ObjectMapper WRITER = JsonMapper.builder()
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();

    /** Writes non-ASCII characters as JSON escapes: for event streams, whose lines must not depend on a charset. */
    private static final ObjectMapper ASCII_WRITER = JsonMapper.builder()
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    private Json() {
    }

    /** An object of alternating names and values; a null value is written as JSON null. */
    static Map<String, @Nullable Object> object(@Nullable Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs");
        }
        Map<String, @Nullable Object> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    /** The page envelope: size, totalElements, totalPages, currentPage. */
    static Map<String, @Nullable Object> page(Page<?> page) {
        return object("size", page.size(), "totalElements", page.totalElements(), "totalPages", page.totalPages(),
                "currentPage", page.currentPage());
    }

    /** An amount of credits, without trailing zeros. */
    static BigDecimal credits(BigDecimal amount) {
        BigDecimal plain = amount.stripTrailingZeros();
        return plain.scale() < 0 ? plain.setScale(0) : plain;
    }

    /** The UTF-8 JSON of {@code value}. */
    static byte[] bytes(Object value) {
        try {
            return WRITER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("response cannot be written as JSON", e);
        }
    }

    /** The JSON of {@code value} on one line of ASCII, every other character escaped. */
    static byte[] asciiBytes(Object value) {
        try {
            return ASCII_WRITER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event cannot be written as JSON", e);
        }
    }
}
