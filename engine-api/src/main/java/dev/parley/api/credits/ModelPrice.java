package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * What a model's use costs, in credits: per 1,000 input tokens, per 1,000 output tokens and per request. A turn is
 * charged {@code in × perThousandInput / 1000 + out × perThousandOutput / 1000 + perRequest}, exactly: with at
 * most {@link #MAX_DECIMALS} decimals in a price, a cost has at most {@link Credits#SCALE}. Amounts are kept at {@link #MAX_DECIMALS}
 * decimals, so two prices are equal when their amounts are, whatever scale they were written with. Immutable and
 * thread safe.
 *
 * <pre>{@code
 * ModelPrice.perThousand("0.15", "0.60")            // 0.15 per 1,000 input tokens, 0.60 per 1,000 output tokens
 * ModelPrice.perThousand("0.15", "0.60").plusPerRequest("0.001")
 * }</pre>
 *
 * @param perThousandInput credits per 1,000 input tokens
 * @param perThousandOutput credits per 1,000 output tokens
 * @param perRequest credits per model request
 */
public record ModelPrice(BigDecimal perThousandInput, BigDecimal perThousandOutput, BigDecimal perRequest) {
    /** The most decimals a price may have. */
    public static final int MAX_DECIMALS = 6;
    /** The largest price, per 1,000 tokens or per request. */
    public static final BigDecimal MAX_PRICE = new BigDecimal("1000000");

    /** Free: for a model a host does not bill. */
    public static final ModelPrice FREE = new ModelPrice(BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO);

    /**
     * @throws InvalidRequestException naming the price that is negative, above {@link #MAX_PRICE} or has more than
     *                                 {@link #MAX_DECIMALS} decimals
     */
    public ModelPrice {
        perThousandInput = check("perThousandInput", perThousandInput);
        perThousandOutput = check("perThousandOutput", perThousandOutput);
        perRequest = check("perRequest", perRequest);
    }

    /**
     * A price per 1,000 input and output tokens, written as decimals ({@code "0.15"}), with nothing per request.
     *
     * @throws InvalidRequestException naming {@code perThousandInput} or {@code perThousandOutput} when one is not a
     *                                 decimal number or is out of range
     */
    public static ModelPrice perThousand(String input, String output) {
        return new ModelPrice(parse("perThousandInput", input), parse("perThousandOutput", output), BigDecimal.ZERO);
    }

    /** A price per 1,000 input and output tokens, with nothing per request. */
    public static ModelPrice perThousand(BigDecimal input, BigDecimal output) {
        return new ModelPrice(input, output, BigDecimal.ZERO);
    }

    /** This price with {@code perRequest} credits charged for each request as well. */
    public ModelPrice plusPerRequest(String perRequestCredits) {
        return new ModelPrice(perThousandInput, perThousandOutput, parse("perRequest", perRequestCredits));
    }

    /**
     * The cost of one request of {@code inputTokens} in and {@code outputTokens} out, at {@link Credits#SCALE}
     * decimals, exact.
     *
     * @throws IllegalArgumentException when a count is negative
     */
    public BigDecimal cost(long inputTokens, long outputTokens) {
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative: " + inputTokens + ", " + outputTokens);
        }
        BigDecimal tokens = perThousandInput.multiply(BigDecimal.valueOf(inputTokens))
                .add(perThousandOutput.multiply(BigDecimal.valueOf(outputTokens)));
        return tokens.movePointLeft(3).add(perRequest).setScale(Credits.SCALE, RoundingMode.UNNECESSARY);
    }

    /**
     * A price written as a decimal number.
     *
     * @throws InvalidRequestException naming {@code field} when it is missing, not a plain decimal number, or out of
     *                                 range
     */
    public static BigDecimal parse(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidRequestException(field, "is required");
        }
        if (value.length() > 40 || !value.strip().matches("[+-]?[0-9]+(\\.[0-9]+)?|[+-]?\\.[0-9]+")) {
            throw new InvalidRequestException(field, "must be a decimal number such as 0.15");
        }
        return check(field, new BigDecimal(value.strip()));
    }

    private static BigDecimal check(String field, BigDecimal value) {
        if (value == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (value.signum() < 0) {
            throw new InvalidRequestException(field, "must not be negative");
        }
        if (value.compareTo(MAX_PRICE) > 0) {
            throw new InvalidRequestException(field, "must be at most " + MAX_PRICE.toPlainString());
        }
        BigDecimal plain = value.stripTrailingZeros();
        if (plain.scale() > MAX_DECIMALS) {
            throw new InvalidRequestException(field, "must have at most " + MAX_DECIMALS + " decimals");
        }
        return value.setScale(MAX_DECIMALS, RoundingMode.UNNECESSARY);
    }

    @Override
    public String toString() {
        return "ModelPrice{in=" + perThousandInput.stripTrailingZeros().toPlainString() + "/1k, out="
                + perThousandOutput.stripTrailingZeros().toPlainString() + "/1k, request="
                + perRequest.stripTrailingZeros().toPlainString() + "}";
    }
}
