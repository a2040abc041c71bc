package dev.parley.core.internal;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;

import java.util.ArrayList;
import java.util.List;

/** Pages of lists held in memory, for the in-memory store. Not API. */
public final class Pages {
    private Pages() {
    }

    /** The requested page of {@code all}, in the page envelope; a copy, so that later changes to {@code all} do not show. */
    public static <T> Page<T> slice(List<T> all, PageRequest page) {
        long from = Math.min(page.offset(), all.size());
        long to = Math.min(from + page.size(), all.size());
        return Page.of(new ArrayList<>(all.subList((int) from, (int) to)), page, all.size());
    }
}
