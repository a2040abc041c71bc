package dev.parley.api;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * One page of a list, with the envelope a paging API returns. Immutable and thread safe.
 *
 * @param items the items of this page
 * @param size the page size asked for
 * @param totalElements items in the whole list
 * @param totalPages pages in the whole list at this size
 * @param currentPage this page's number, from 1
 */
public record Page<T>(List<T> items, int size, long totalElements, int totalPages, int currentPage) {

    public Page {
        items = List.copyOf(Objects.requireNonNull(items, "items"));
    }

    /** The page {@code request} of a list of {@code totalElements} items, holding {@code items}. */
    public static <T> Page<T> of(List<T> items, PageRequest request, long totalElements) {
        int totalPages = (int) ((totalElements + request.size() - 1) / request.size());
        return new Page<>(items, request.size(), totalElements, totalPages, request.page());
    }

    /** The same page with each item mapped. */
    public <R> Page<R> map(Function<? super T, ? extends R> f) {
        return new Page<>(items.stream().<R>map(f).toList(), size, totalElements, totalPages, currentPage);
    }
}
