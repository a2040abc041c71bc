package dev.parley.samples.chat;

import java.time.Instant;

import org.jline.reader.impl.history.DefaultHistory;

/**
 * The chat's line history: JLine's {@link DefaultHistory} (the file of {@code LineReader.HISTORY_FILE}, each line
 * appended as it is kept), except that a line read is not added by the reader itself but only when the chat
 * {@linkplain #keep keeps} it, so that a line a policy refused (a prompt with a secret in it) never reaches the file.
 * Not thread safe: the chat's thread uses it, as the reader does.
 */
final class ChatHistory extends DefaultHistory {
    /** Ignores the line: the reader calls this for every line it reads; the chat {@linkplain #keep keeps} its own. */
    @Override
    public void add(Instant time, String line) {
        // not kept until the chat says so
    }

    /** Adds {@code line} to the history, and to its file. */
    void keep(String line) {
        super.add(Instant.now(), line);
    }
}
