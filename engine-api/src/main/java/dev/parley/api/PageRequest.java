package dev.parley.api;

/**
 * Which page of a list to read: pages count from 1, a page holds 1 to {@value #MAX_SIZE} items (default
 * {@value #DEFAULT_SIZE}). Immutable and thread safe.
 *
 * @param page the page number, from 1
 * @param size items per page
 */
public record PageRequest(int page, int size) {
    public static final int DEFAULT_SIZE = 20;
    public static final int MAX_SIZE = 100;

    /** @throws InvalidRequestException naming {@code page} or {@code size} */
    public PageRequest {
        if (page < 1) {
            throw new InvalidRequestException("page", "must be at least 1, was " + page);
        }
        if (size < 1 || size > MAX_SIZE) {
            throw new InvalidRequestException("size", "must be between 1 and " + MAX_SIZE + ", was " + size);
        }
    }

    public static PageRequest of(int page, int size) {
        return new PageRequest(page, size);
    }

    /** The first page of the default size. */
    public static PageRequest first() {
        return new PageRequest(1, DEFAULT_SIZE);
    }

    /** How many items come before this page. */
    public long offset() {
        return (long) (page - 1) * size;
    }
}
