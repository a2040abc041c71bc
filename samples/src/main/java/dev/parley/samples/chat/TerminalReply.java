package dev.parley.samples.chat;

import dev.parley.api.Reply;
import dev.parley.api.StreamListener;

import java.io.PrintWriter;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Prints a streamed reply as it arrives, each delta flushed at once and without its control characters
 * ({@link TerminalText#safe}: a model's text must not drive the terminal), and hands its end to the thread that waits
 * in {@link #await()}. What it prints is what arrived; the stored reply's {@link Reply#text() text}, which the end
 * carries, is what {@code /history} shows. Thread safe: the engine calls it from the stream's threads (never two
 * calls at once), the chat waits on its own.
 */
final class TerminalReply implements StreamListener {
    private final PrintWriter out;
    private final CompletableFuture<Reply> end = new CompletableFuture<>();
    private volatile boolean printed;
    private volatile boolean endsLine = true;

    TerminalReply(PrintWriter out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    @Override
    public void onDelta(String delta) {
        String safe = TerminalText.safe(delta);
        if (safe.isEmpty()) {
            return;
        }
        out.print(safe);
        out.flush();
        printed = true;
        endsLine = safe.endsWith("\n");
    }

    @Override
    public void onComplete(Reply reply) {
        end.complete(reply);
    }

    @Override
    public void onError(RuntimeException error) {
        end.completeExceptionally(error);
    }

    /** Whether some of the reply was printed, and the last of it did not end its line. */
    boolean openLine() {
        return printed && !endsLine;
    }

    /**
     * Waits for the end of the stream.
     *
     * @return the stored reply, complete or cancelled
     * @throws RuntimeException the stream's failure, as the engine reported it
     */
    Reply await() throws InterruptedException {
        try {
            return end.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw new IllegalStateException("the stream failed", e.getCause());
        }
    }
}
