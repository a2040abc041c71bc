package dev.parley.testing;

import dev.parley.api.Usage;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A model for hosts' unit tests: it answers from a script instead of a network, records the exact requests it
 * receives, and can report usage, fail and take its time on demand.
 *
 * <pre>{@code
 * ScriptedModel model = ScriptedModel.builder().replies("Hello!", "Goodbye.").build();
 * ConversationEngine engine = ConversationEngine.builder().model("test", model).build();
 * ... c.send(Prompt.text("Hi").build()) ...
 * assertThat(model.lastRequest().messages()).last().extracting(ModelMessage::text).isEqualTo("Hi");
 * }</pre>
 *
 * <p>Each call answers, in order of precedence: with a failure queued by {@link #failNext}; with the next
 * queued reply ({@link Builder#replies}, {@link #enqueue}); with the reply function ({@link Builder#replyWith});
 * otherwise it fails with {@link IllegalStateException} ("script exhausted"), which the engine reports as a
 * model failure. Streams ({@link #stream}) send the same answer a word at a time. Thread safe.
 */
public final class ScriptedModel implements ModelProvider {
    private final Function<ModelRequest, String> replyFunction;
    private final Function<ModelRequest, Usage> usage;
    private final Duration latency;
    private final Duration chunkDelay;
    /** False for a model that only chats: its streams are the whole answer as one delta. */
    private final boolean streams;
    private final int failAfterChunks;
    private final RuntimeException streamFailure;
    private final Deque<Object> script = new ArrayDeque<>();
    private final List<ModelRequest> requests = new ArrayList<>();

    private ScriptedModel(Builder b) {
        this.replyFunction = b.replyFunction;
        this.usage = b.usage;
        this.latency = b.latency;
        this.chunkDelay = b.chunkDelay;
        this.streams = b.streams;
        this.failAfterChunks = b.failAfterChunks;
        this.streamFailure = b.streamFailure;
        script.addAll(b.replies);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A model that answers every request with {@code "echo: "} and the request's last message. */
    public static ScriptedModel echo() {
        return builder().replyWith(r -> "echo: " + r.messages().get(r.messages().size() - 1).text()).build();
    }

    @Override
    public ModelResponse chat(ModelRequest request) {
        return new ModelResponse(answer(request), usage == null ? null : usage.apply(request));
    }

    /**
     * Streams the answer a word at a time (each chunk keeps its trailing space), waiting the chunk delay before
     * each, and stops between chunks once the handler is cancelled; fails after the configured number of chunks
     * when told to. The reported usage, if any, comes with completion.
     */
    @Override
    public void stream(ModelRequest request, StreamingHandler handler) {
        if (!streams) {
            ModelProvider.super.stream(request, handler);
            return;
        }
        String text;
        try {
            text = answer(request);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        List<String> chunks = chunksOf(text);
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            if (handler.cancelled()) {
                handler.onComplete(new ModelResponse(sent.toString(), null));
                return;
            }
            if (streamFailure != null && i == failAfterChunks) {
                handler.onError(streamFailure);
                return;
            }
            sleep(chunkDelay);
            handler.onDelta(chunks.get(i));
            sent.append(chunks.get(i));
        }
        handler.onComplete(new ModelResponse(text, usage == null ? null : usage.apply(request)));
    }

    /** The chunks {@link #stream} sends for a reply: words with their trailing whitespace. */
    public static List<String> chunksOf(String text) {
        List<String> chunks = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= text.length(); i++) {
            if (i == text.length() || (Character.isWhitespace(text.charAt(i - 1)) && !Character.isWhitespace(text.charAt(i)))) {
                chunks.add(text.substring(start, i));
                start = i;
            }
        }
        return chunks;
    }

    private String answer(ModelRequest request) {
        Object next;
        synchronized (this) {
            requests.add(request);
            next = script.poll();
        }
        pause();
        if (next instanceof RuntimeException failure) {
            throw failure;
        }
        String text;
        if (next != null) {
            text = (String) next;
        } else if (replyFunction != null) {
            text = replyFunction.apply(request);
        } else {
            throw new IllegalStateException("script exhausted: no reply left for call " + callCount());
        }
        return text;
    }

    /** Queues replies after those already queued. */
    public synchronized ScriptedModel enqueue(String... replies) {
        for (String r : replies) {
            script.add(Objects.requireNonNull(r, "reply"));
        }
        return this;
    }

    /** Makes the next call fail with {@code failure}, before any queued reply. */
    public synchronized ScriptedModel failNext(RuntimeException failure) {
        script.addFirst(Objects.requireNonNull(failure, "failure"));
        return this;
    }

    /** Every request received so far, oldest first. */
    public synchronized List<ModelRequest> requests() {
        return List.copyOf(requests);
    }

    /** The newest request. */
    public synchronized ModelRequest lastRequest() {
        if (requests.isEmpty()) {
            throw new IllegalStateException("the model received no request");
        }
        return requests.get(requests.size() - 1);
    }

    /** The texts of the newest request's messages, in order. */
    public List<String> lastRequestTexts() {
        return lastRequest().messages().stream().map(ModelMessage::text).toList();
    }

    /** How many calls the model received, including failed ones. */
    public synchronized int callCount() {
        return requests.size();
    }

    private void pause() {
        sleep(latency);
    }

    private static void sleep(Duration d) {
        if (d.isZero()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Builds a {@link ScriptedModel}. Not thread safe. */
    public static final class Builder {
        private final List<String> replies = new ArrayList<>();
        private Function<ModelRequest, String> replyFunction;
        private Function<ModelRequest, Usage> usage;
        private Duration latency = Duration.ZERO;
        private Duration chunkDelay = Duration.ZERO;
        private boolean streams = true;
        private int failAfterChunks;
        private RuntimeException streamFailure;

        private Builder() {
        }

        /**
         * Makes a model that only chats, as many providers' adapters do: a stream gets the whole answer as one
         * delta, from {@link ModelProvider}'s default {@code stream}. Chunk delays and stream failures then do not
         * apply.
         */
        public Builder chatOnly() {
            this.streams = false;
            return this;
        }

        /** Waits this long before each streamed chunk. */
        public Builder chunkDelay(Duration delay) {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("chunk delay must not be negative: " + delay);
            }
            this.chunkDelay = delay;
            return this;
        }

        /** Makes every stream fail with {@code failure} after {@code chunks} chunks. */
        public Builder failStreamsAfter(int chunks, RuntimeException failure) {
            if (chunks < 0) {
                throw new IllegalArgumentException("chunks must not be negative: " + chunks);
            }
            this.failAfterChunks = chunks;
            this.streamFailure = Objects.requireNonNull(failure, "failure");
            return this;
        }

        /** Replies given in order, one per call. */
        public Builder replies(String... texts) {
            for (String t : texts) {
                replies.add(Objects.requireNonNull(t, "reply"));
            }
            return this;
        }

        /** Answers every call the queue does not answer. */
        public Builder replyWith(Function<ModelRequest, String> replyFunction) {
            this.replyFunction = Objects.requireNonNull(replyFunction, "replyFunction");
            return this;
        }

        /** Reports this usage with every reply, as a provider would. Without it the model reports none. */
        public Builder usage(long tokensIn, long tokensOut) {
            Usage fixed = new Usage(tokensIn, tokensOut);
            this.usage = r -> fixed;
            return this;
        }

        /** Reports usage computed from each request. */
        public Builder usage(Function<ModelRequest, Usage> usage) {
            this.usage = Objects.requireNonNull(usage, "usage");
            return this;
        }

        /** Waits this long before each answer. */
        public Builder latency(Duration latency) {
            Objects.requireNonNull(latency, "latency");
            if (latency.isNegative()) {
                throw new IllegalArgumentException("latency must not be negative: " + latency);
            }
            this.latency = latency;
            return this;
        }

        public ScriptedModel build() {
            return new ScriptedModel(this);
        }
    }
}
