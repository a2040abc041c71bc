/**
 * Summarizing compaction: the settings a host gives {@link dev.parley.api.ConversationEngine.Builder#compaction},
 * the prompt the summarizer is asked with, and the summaries a store keeps. For hosts.
 */
@NullMarked
package dev.parley.api.compaction;

import org.jspecify.annotations.NullMarked;
