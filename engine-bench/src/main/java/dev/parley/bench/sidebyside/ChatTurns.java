package dev.parley.bench.sidebyside;

/**
 * One way of running a durable chat turn: keep the user's message and the model's reply, and give the model the
 * newest messages of the conversation's history. The model answers instantly, so what is measured is the
 * memory's own cost. Not thread safe: one benchmark thread drives it.
 */
interface ChatTurns extends AutoCloseable {

    /** How many messages of history the model sees each turn, as in a window of about 20 messages. */
    int WINDOW = 20;

    /** The newest {@link #WINDOW} messages of {@code history} (all of it when shorter), oldest first: what the model sees. */
    static <T> java.util.List<T> newestWindow(java.util.List<T> history) {
        return new java.util.ArrayList<>(history.subList(Math.max(0, history.size() - WINDOW), history.size()));
    }

    /** Creates {@code conversations} conversations of {@code history} messages each, users and replies alternating. */
    void fill(int conversations, int history) throws Exception;

    /** One turn in conversation {@code conversation}; returns what the model saw and answered, to be consumed. */
    Object turn(int conversation, String prompt, String reply) throws Exception;

    /** The H2 database file (without its {@code .mv.db} suffix). */
    java.nio.file.Path file();

    /** Messages stored in all conversations, read back from the database: the check that the turns were real. */
    long storedMessages() throws Exception;
}
