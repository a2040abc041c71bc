package dev.parley.api.credits;

import dev.parley.api.InvalidRequestException;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Objects;

/**
 * The periods of a credit account ({@link AccountTerms}): back-to-back spans of a fixed calendar length, days or
 * months, counted from an anchor date, each starting at midnight in a time zone. Period {@code k} starts at
 * {@code anchor + k × length}; counting from the anchor rather than from the previous start keeps month ends
 * stable (anchored on the 31st, the periods start on Jan 31, Feb 28, Mar 31, ...). Immutable and thread safe.
 *
 * <p>Written as text, for configuration files and for {@link #parse}: a length, either an ISO-8601 period of
 * days, weeks, months or years ({@code P1D}, {@code P7D}, {@code P2W}, {@code P1M}, {@code P3M}, {@code P1Y}) or one
 * of the words {@code daily}, {@code weekly}, {@code monthly}, {@code yearly}; then optionally
 * {@code from <ISO date>} and {@code in <zone id>}. {@code "monthly"} is calendar months in UTC;
 * {@code "P1M from 2026-01-15 in Europe/Berlin"} starts on the 15th of each month at midnight in Berlin.
 * {@link #toString()} writes the full form, which {@link #parse} reads back.
 *
 * @param length how long each period is: a positive number of days, or of months, not both
 * @param anchor the date a period starts on (period 0)
 * @param zone the time zone whose midnight starts a period
 */
public record CreditPeriod(Period length, LocalDate anchor, ZoneId zone) {
    /** The longest period, in months (ten years). */
    public static final int MAX_MONTHS = 120;
    /** The longest period, in days (about ten years). */
    public static final int MAX_DAYS = 3660;
    /** The anchor of {@link #daily()}, {@link #monthly()} and {@link #yearly()}: a first of January. */
    public static final LocalDate DEFAULT_ANCHOR = LocalDate.of(2000, 1, 1);
    /** The anchor of {@link #weekly()}: a Monday. */
    public static final LocalDate MONDAY_ANCHOR = LocalDate.of(2000, 1, 3);

    /**
     * @throws InvalidRequestException naming {@code period} when the length is not a positive number of days or of
     *                                 months (years count as twelve months), or is longer than ten years
     */
    public CreditPeriod {
        Objects.requireNonNull(length, "length");
        Objects.requireNonNull(anchor, "anchor");
        Objects.requireNonNull(zone, "zone");
        Period normal = length.normalized();
        boolean days = normal.getDays() != 0;
        boolean months = normal.toTotalMonths() != 0;
        if (days == months || normal.isNegative()) {
            throw new InvalidRequestException("period", "must be a positive number of days or of months");
        }
        if (days && normal.getDays() > MAX_DAYS || months && normal.toTotalMonths() > MAX_MONTHS) {
            throw new InvalidRequestException("period", "must be at most ten years");
        }
        length = days ? Period.ofDays(normal.getDays()) : Period.ofMonths((int) normal.toTotalMonths());
        zone = zone.normalized();
    }

    /** Calendar days, from midnight UTC. */
    public static CreditPeriod daily() {
        return new CreditPeriod(Period.ofDays(1), DEFAULT_ANCHOR, ZoneOffset.UTC);
    }

    /** Weeks from Monday, midnight UTC. */
    public static CreditPeriod weekly() {
        return new CreditPeriod(Period.ofDays(7), MONDAY_ANCHOR, ZoneOffset.UTC);
    }

    /** Calendar months, from the first at midnight UTC. */
    public static CreditPeriod monthly() {
        return new CreditPeriod(Period.ofMonths(1), DEFAULT_ANCHOR, ZoneOffset.UTC);
    }

    /** Calendar years, from January 1 at midnight UTC. */
    public static CreditPeriod yearly() {
        return new CreditPeriod(Period.ofMonths(12), DEFAULT_ANCHOR, ZoneOffset.UTC);
    }

    /** These periods, starting on {@code date} instead (and every length after it). */
    public CreditPeriod from(LocalDate date) {
        return new CreditPeriod(length, date, zone);
    }

    /** These periods, starting at midnight in {@code timeZone}. */
    public CreditPeriod in(ZoneId timeZone) {
        return new CreditPeriod(length, anchor, timeZone);
    }

    /**
     * Periods written as text (see the class description).
     *
     * @throws InvalidRequestException naming {@code period} when the text does not parse, names an unknown zone, or
     *                                 gives a length that is not a positive number of days or of months
     */
    public static CreditPeriod parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidRequestException("period", "is required");
        }
        if (text.length() > 128) {
            throw new InvalidRequestException("period", "must be at most 128 characters");
        }
        String[] words = text.strip().split("\\s+");
        CreditPeriod period = switch (words[0].toLowerCase(Locale.ROOT)) {
            case "daily" -> daily();
            case "weekly" -> weekly();
            case "monthly" -> monthly();
            case "yearly" -> yearly();
            default -> new CreditPeriod(length(words[0]), DEFAULT_ANCHOR, ZoneOffset.UTC);
        };
        int i = 1;
        if (i < words.length && words[i].equals("from")) {
            if (i + 1 >= words.length) {
                throw new InvalidRequestException("period", "must give a date after 'from'");
            }
            try {
                period = period.from(LocalDate.parse(words[i + 1]));
            } catch (DateTimeParseException e) {
                throw new InvalidRequestException("period", "must give an ISO date such as 2026-01-15 after 'from'");
            }
            i += 2;
        }
        if (i < words.length && words[i].equals("in")) {
            if (i + 1 >= words.length) {
                throw new InvalidRequestException("period", "must give a time zone after 'in'");
            }
            try {
                period = period.in(ZoneId.of(words[i + 1]));
            } catch (DateTimeException e) {
                throw new InvalidRequestException("period", "names an unknown time zone");
            }
            i += 2;
        }
        if (i != words.length) {
            throw new InvalidRequestException("period",
                    "must be a length such as P1M or monthly, then optionally 'from <date>' and 'in <zone>'");
        }
        return period;
    }

    private static Period length(String word) {
        try {
            return Period.parse(word);
        } catch (DateTimeParseException e) {
            throw new InvalidRequestException("period",
                    "must be a length such as P1D, P7D, P1M, P1Y, or one of daily, weekly, monthly, yearly");
        }
    }

    /** The number of the period {@code at} falls in: 0 for the one starting on the anchor, negative before it. */
    public long index(Instant at) {
        Objects.requireNonNull(at, "at");
        LocalDate date = at.atZone(zone).toLocalDate();
        long k;
        if (length.getDays() != 0) {
            k = Math.floorDiv(ChronoUnit.DAYS.between(anchor, date), length.getDays());
        } else {
            long months = ChronoUnit.MONTHS.between(anchor.withDayOfMonth(1), date.withDayOfMonth(1));
            k = Math.floorDiv(months, length.toTotalMonths());
        }
        // The estimate is off by at most one either way: month lengths, and a midnight a zone skips.
        while (start(k).isAfter(at)) {
            k--;
        }
        while (!start(k + 1).isAfter(at)) {
            k++;
        }
        return k;
    }

    /** When period {@code k} starts. */
    public Instant start(long k) {
        LocalDate date = length.getDays() != 0
                ? anchor.plusDays(Math.multiplyExact(k, (long) length.getDays()))
                : anchor.plusMonths(Math.multiplyExact(k, length.toTotalMonths()));
        return date.atStartOfDay(zone).toInstant();
    }

    /** When the period containing {@code at} starts. */
    public Instant startOf(Instant at) {
        return start(index(at));
    }

    /** When the period containing {@code at} ends: the next one's start. */
    public Instant endOf(Instant at) {
        return start(index(at) + 1);
    }

    /** The full text form, which {@link #parse} reads back: {@code P1M from 2000-01-01 in Z}. */
    @Override
    public String toString() {
        return length + " from " + anchor + " in " + zone.getId();
    }
}
