package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads a Server-Sent Events body as it arrives, on a thread of its own, so that a test can wait for the next event
 * with a deadline. Comments are skipped; every event's data is parsed as JSON.
 */
final class SseEvents implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    /** One event. */
    record Event(String name, JsonNode data) {
    }

    /** What the reader thread queues when the body ended. */
    private static final Event END = new Event("", MAPPER.nullNode());

    private final InputStream body;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread reader;

    SseEvents(InputStream body) {
        this.body = body;
        this.reader = new Thread(this::read, "sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String name = "message";
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(name, MAPPER.readTree(data.toString())));
                    }
                    name = "message";
                    data.setLength(0);
                } else if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
        } catch (IOException e) {
            // the body ended early or was closed by the test
        } finally {
            events.add(END);
        }
    }

    /** The next event, or an AssertionError when the body ended or nothing came before the deadline. */
    Event next() throws InterruptedException {
        Event e = events.poll(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
            throw new AssertionError("no event within " + DEADLINE);
        }
        if (e == END) {
            events.add(END);
            throw new AssertionError("the event stream ended");
        }
        return e;
    }

    /** Every event up to the end of the body. */
    java.util.List<Event> rest() throws InterruptedException {
        java.util.List<Event> all = new java.util.ArrayList<>();
        while (true) {
            Event e = events.poll(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError("the event stream did not end within " + DEADLINE);
            }
            if (e == END) {
                events.add(END);
                return all;
            }
            all.add(e);
        }
    }

    /** Closes the body, as a client that goes away does. */
    @Override
    public void close() throws IOException {
        body.close();
    }
}
