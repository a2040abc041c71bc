package dev.parley.store.jdbc;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The reliability tests' way to read every item of a paged listing. */
final class Pages {
    private Pages() {
    }

    /** Every item of the listing {@code pages}, reading pages of the largest size from the first on. */
    static <T> List<T> all(Function<PageRequest, Page<T>> pages) {
        List<T> items = new ArrayList<>();
        for (int page = 1; ; page++) {
            Page<T> p = pages.apply(PageRequest.of(page, PageRequest.MAX_SIZE));
            items.addAll(p.items());
            if (p.items().size() < PageRequest.MAX_SIZE) {
                return items;
            }
        }
    }
}
