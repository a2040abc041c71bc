package dev.parley.samples.chat;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.Credits;
import dev.parley.api.ErrorCode;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.StreamHandle;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat's loop: reads a line, sends it as a prompt to the current conversation and prints the reply as it streams,
 * then one line of the turn's tokens, credits and model; a line that starts with {@code /} is a command (see
 * {@link #HELP}). A refusal of the engine (a policy block, a budget, a rate limit) or a bad command is one plain line.
 * SIGINT (Ctrl-C) during a reply cancels its stream, the part that arrived kept and marked {@value #CANCELLED}; at the
 * prompt it clears the line; end of input quits. The first prompt (or {@code /model}, {@code /personality}) starts a
 * conversation when none is current.
 * Everything printed that came from the model, the store or the user (replies, {@code /history}, {@code /list},
 * refusals) is printed without its control characters ({@link TerminalText#safe}). A line read is kept in the line
 * history once handled, unless a policy blocked it: a {@code /context} line waits for the turn it is for, and is
 * dropped with that turn's prompt when a policy blocks it (or when another {@code /context} replaces it).
 * Not thread safe: one thread runs it, while the terminal's signal handler only cancels the running stream.
 */
final class ChatSession {
    /** What follows the part of a reply that a cancel cut off. */
    static final String CANCELLED = "[cancelled]";
    /** The commands, as {@code /help} prints them. */
    static final String HELP = String.join("\n",
            "/new [personality]     start a conversation, with a personality if given",
            "/list [page]           the conversations you may see, 10 a page (* marks the current one)",
            "/switch ID             continue the conversation ID",
            "/history [page]        the current conversation's messages, 20 a page",
            "/model NAME            the model of the current conversation's next turns",
            "/personality TEXT      the current conversation's personality; /personality clear removes it",
            "/context TEXT          additional context for the next turn only",
            "/plain on|off          replies as plain text, their markdown removed",
            "/help                  this list",
            "/quit                  leave (Ctrl-D too); Ctrl-C cancels a reply that is streaming");

    private static final Logger LOG = LoggerFactory.getLogger(ChatSession.class);
    private static final int LIST_PAGE_SIZE = 10;
    private static final int HISTORY_PAGE_SIZE = 20;
    private static final String DIM = "\u001b[2m";
    private static final String RESET = "\u001b[0m";

    private final Conversations conversations;
    private final String workspaceId;
    private final List<String> models;
    private final Terminal terminal;
    private final LineReader reader;
    private final ChatHistory history;
    private final boolean interactive;
    private final PrintWriter out;
    /** The stream of the turn in progress, for the signal handler to cancel. */
    private final AtomicReference<@Nullable StreamHandle> streaming = new AtomicReference<>();

    private @Nullable Conversation current;
    private @Nullable String nextContext;
    /** The {@code /context} line of {@link #nextContext}, kept in the history with the turn it is for. */
    private @Nullable String contextLine;
    private boolean plain;

    /**
     * @param conversations the engine as the chat's caller
     * @param workspaceId where new conversations start
     * @param models the configured model names, the ones {@code /model} takes
     * @param reader the line reader, whose history is {@code history}
     * @param history where the lines the chat keeps go
     * @param interactive whether a person is at a real terminal: then there is a prompt and a dim turn line
     */
    ChatSession(Conversations conversations, String workspaceId, List<String> models, Terminal terminal,
                LineReader reader, ChatHistory history, boolean interactive) {
        this.conversations = Objects.requireNonNull(conversations, "conversations");
        this.workspaceId = Objects.requireNonNull(workspaceId, "workspaceId");
        this.models = List.copyOf(models);
        this.terminal = Objects.requireNonNull(terminal, "terminal");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.history = Objects.requireNonNull(history, "history");
        this.interactive = interactive;
        this.out = terminal.writer();
    }

    /** Runs until {@code /quit} or the end of input. */
    void run() {
        terminal.handle(Terminal.Signal.INT, signal -> {
            StreamHandle handle = streaming.get();
            if (handle != null) {
                handle.cancel();
            }
        });
        if (interactive) {
            println("Parley chat as " + conversations.caller().userId() + " in workspace " + workspaceId
                    + ". Type a message, or /help.");
        }
        String prompt = interactive ? "you> " : "";
        try {
            while (true) {
                String line;
                try {
                    line = reader.readLine(prompt);
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return;
                }
                if (!handle(line.strip())) {
                    return;
                }
            }
        } finally {
            saveHistory();
            out.flush();
        }
    }

    /** Handles one line, then keeps it in the history unless a policy blocked it; false when it asks to quit. */
    private boolean handle(String line) {
        if (line.isEmpty()) {
            return true;
        }
        boolean isCommand = line.startsWith("/") && !line.startsWith("//");
        boolean blocked = false;
        try {
            if (isCommand) {
                return command(line);
            }
            send(line.startsWith("//") ? line.substring(1) : line);
        } catch (ParleyException e) {
            blocked = e.code() == ErrorCode.POLICY_BLOCKED;
            println(refusal(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            println("interrupted");
            return false;
        } catch (RuntimeException e) {
            LOG.error("unexpected failure of a chat line", e);
            println("error: " + oneLine(String.valueOf(e.getMessage())) + " (details in the log file)");
        } finally {
            remember(line, isCommand, blocked);
        }
        return true;
    }

    /**
     * Keeps {@code line} in the history unless a policy blocked it. A {@code /context} line is held until the turn
     * it is for, and goes (or is dropped) with that turn's prompt.
     */
    private void remember(String line, boolean isCommand, boolean blocked) {
        if (isCommand) {
            if (nextContext != null && isContextCommand(line)) {
                contextLine = line;
            } else {
                history.keep(line);
            }
            return;
        }
        String context = contextLine;
        contextLine = null;
        if (blocked) {
            return;
        }
        if (context != null) {
            history.keep(context);
        }
        history.keep(line);
    }

    /** Whether {@code line}, stripped, is {@code /context} with a text. */
    private static boolean isContextCommand(String line) {
        int length = "/context".length();
        return line.length() > length && line.regionMatches(true, 0, "/context", 0, length)
                && Character.isWhitespace(line.charAt(length));
    }

    private boolean command(String line) throws InterruptedException {
        int space = line.indexOf(' ');
        String name = (space < 0 ? line : line.substring(0, space)).toLowerCase(Locale.ROOT);
        String arg = space < 0 ? "" : line.substring(space + 1).strip();
        switch (name) {
            case "/quit", "/exit" -> {
                return false;
            }
            case "/help" -> println(HELP);
            case "/new" -> newConversation(arg);
            case "/list" -> list(arg);
            case "/switch" -> switchTo(arg);
            case "/history" -> history(arg);
            case "/model" -> model(arg);
            case "/personality" -> personality(arg);
            case "/context" -> context(arg);
            case "/plain" -> plain(arg);
            default -> println("unknown command " + name + "; /help lists the commands");
        }
        return true;
    }

    /**
     * Streams the turn of {@code text}, printing the deltas as they arrive, then the cancel mark or the line end and
     * the turn line. What was printed is what arrived (with {@code /plain on}, the engine's plain-text deltas, which
     * in rare markdown can differ from the reply's final text); nothing more is printed for such a difference. The
     * cancel mark follows the stored reply's status, and {@code /history} shows the stored text,
     * {@link Reply#text()}.
     */
    private void send(String text) throws InterruptedException {
        Prompt.Builder b = Prompt.text(text).plaintext(plain);
        String context = nextContext;
        nextContext = null;
        if (context != null) {
            b.additionalContext(context);
        }
        Prompt prompt = b.build();
        Conversation conversation = current();
        TerminalReply reply = new TerminalReply(out);
        Attributes before = interactive ? quiet() : null;
        Reply done;
        try {
            StreamHandle handle = conversation.stream(prompt, reply);
            streaming.set(handle);
            done = reply.await();
        } catch (ParleyException e) {
            if (reply.openLine()) {
                println("");
            }
            throw e;
        } finally {
            streaming.set(null);
            if (before != null) {
                terminal.setAttributes(before);
            }
        }
        if (done.status() == MessageStatus.CANCELLED) {
            println((reply.openLine() ? " " : "") + CANCELLED);
        } else if (reply.openLine()) {
            println("");
        }
        String stats = TerminalText.safe(turnLine(done));
        out.println(interactive ? DIM + stats + RESET : stats);
        out.flush();
    }

    /**
     * Stops the terminal echoing what is typed while a reply streams (Ctrl-C's {@code ^C} among it), so that the
     * reply is printed whole; Ctrl-C still raises SIGINT.
     *
     * @return the attributes to restore
     */
    private Attributes quiet() {
        Attributes before = terminal.getAttributes();
        Attributes quiet = new Attributes(before);
        quiet.setLocalFlag(Attributes.LocalFlag.ECHO, false);
        quiet.setLocalFlag(Attributes.LocalFlag.ECHOCTL, false);
        terminal.setAttributes(quiet);
        return before;
    }

    /** The line after a reply: tokens, credits and model. */
    static String turnLine(Reply reply) {
        StringBuilder s = new StringBuilder("tokens ").append(reply.usage().tokensIn()).append(" in / ")
                .append(reply.usage().tokensOut()).append(" out");
        Credits credits = reply.credits();
        if (credits.metered()) {
            s.append(" | credits ").append(plainNumber(credits.used())).append(" used, ")
                    .append(plainNumber(credits.remaining())).append(" remaining");
        } else {
            s.append(" | no credits charged");
        }
        return s.append(" | model ").append(reply.model()).toString();
    }

    private void newConversation(String personality) {
        NewConversation.Builder b = NewConversation.inWorkspace(workspaceId);
        if (!personality.isEmpty()) {
            b.personality(personality);
        }
        Conversation created = conversations.create(b.build());
        current = created;
        println("new conversation " + created.id());
    }

    private void list(String arg) {
        Integer page = page("/list", arg);
        if (page == null) {
            return;
        }
        Page<ConversationInfo> found = conversations.list(ConversationQuery.all(PageRequest.of(page, LIST_PAGE_SIZE)));
        if (found.items().isEmpty()) {
            println(found.totalElements() == 0 ? "no conversations yet"
                    : "/list: no page " + page + "; there are " + found.totalPages());
            return;
        }
        for (ConversationInfo c : found.items()) {
            boolean isCurrent = current != null && current.id().equals(c.id());
            String personality = c.steering().personality();
            println((isCurrent ? "* " : "  ") + c.id() + "  " + c.workspaceId() + "  " + c.ownerId() + "  "
                    + (c.tokensIn() + c.tokensOut()) + " tokens  updated " + c.updatedAt()
                    + (personality == null ? "" : "  personality: " + oneLine(personality)));
        }
        println("page " + page + " of " + found.totalPages() + " (" + found.totalElements() + " conversations)");
    }

    private void switchTo(String id) {
        if (id.isEmpty() || id.indexOf(' ') >= 0) {
            println("/switch: name one conversation id (/list shows them)");
            return;
        }
        Conversation found;
        try {
            found = conversations.get(id);
            found.info();
        } catch (ConversationNotFoundException e) {
            println("/switch: no conversation " + id);
            return;
        }
        current = found;
        println("switched to conversation " + id);
    }

    private void history(String arg) {
        Integer page = page("/history", arg);
        if (page == null) {
            return;
        }
        Conversation conversation = current;
        if (conversation == null) {
            println("/history: no conversation yet; send a message or /new");
            return;
        }
        Page<Message> messages = conversation.messages(PageRequest.of(page, HISTORY_PAGE_SIZE));
        if (messages.items().isEmpty()) {
            println(messages.totalElements() == 0 ? "no messages yet"
                    : "/history: no page " + page + "; there are " + messages.totalPages());
            return;
        }
        for (Message m : messages.items()) {
            String who = m.role() == Role.USER ? "you" : "assistant";
            String mark = switch (m.status()) {
                case COMPLETE -> "";
                case CANCELLED -> " " + CANCELLED;
                case FAILED -> " [failed]";
            };
            println(who + ": " + m.text() + mark);
        }
        println("page " + page + " of " + messages.totalPages() + " (" + messages.totalElements() + " messages)");
    }

    private void model(String name) {
        if (name.isEmpty()) {
            println("/model: name a model; the configured ones are " + String.join(", ", models));
            return;
        }
        if (!models.contains(name)) {
            println("/model: unknown model " + name + "; the configured ones are " + String.join(", ", models));
            return;
        }
        current().update(ConversationPatch.builder().modelName(name).build());
        println("model " + name);
    }

    private void personality(String text) {
        if (text.isEmpty()) {
            println("/personality: give the text, or clear");
            return;
        }
        boolean clear = text.equalsIgnoreCase("clear");
        current().update(ConversationPatch.builder().personality(clear ? null : text).build());
        println(clear ? "personality cleared" : "personality set");
    }

    private void context(String text) {
        if (text.isEmpty()) {
            println("/context: give the text the next turn should see");
            return;
        }
        nextContext = text;
        println("context set for the next turn");
    }

    private void plain(String arg) {
        switch (arg.toLowerCase(Locale.ROOT)) {
            case "on" -> plain = true;
            case "off" -> plain = false;
            default -> {
                println("/plain: on or off (now " + (plain ? "on" : "off") + ")");
                return;
            }
        }
        println("plain text " + (plain ? "on" : "off"));
    }

    /** The conversation turns go to, started when there is none. */
    private Conversation current() {
        Conversation c = current;
        if (c == null) {
            c = conversations.create(NewConversation.inWorkspace(workspaceId).build());
            current = c;
        }
        return c;
    }

    /** The page number of {@code arg} (1 when empty), or null after saying why it is refused. */
    private @Nullable Integer page(String command, String arg) {
        if (arg.isEmpty()) {
            return 1;
        }
        try {
            int page = Integer.parseInt(arg);
            if (page >= 1) {
                return page;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        println(command + ": the page must be a whole number from 1, was " + arg);
        return null;
    }

    /** One line for a refusal of the engine, its code first. */
    static String refusal(ParleyException e) {
        String what = switch (e.code()) {
            case POLICY_BLOCKED -> "blocked by policy";
            case BUDGET_EXCEEDED -> "refused: not enough credits";
            case RATE_LIMITED -> "refused: rate limited";
            case NOT_FOUND -> "not found";
            case FORBIDDEN -> "not allowed";
            case INVALID_REQUEST -> "invalid";
            case CONVERSATION_LOCKED -> "busy";
            case MODEL_UNAVAILABLE -> "model unavailable";
            default -> "failed";
        };
        return what + " (" + e.code() + "): " + oneLine(Objects.requireNonNullElse(e.getMessage(), ""));
    }

    private static String oneLine(String text) {
        return text.replaceAll("\\s*\\R\\s*", " ");
    }

    private static String plainNumber(BigDecimal amount) {
        BigDecimal plain = amount.stripTrailingZeros();
        return (plain.scale() < 0 ? plain.setScale(0) : plain).toPlainString();
    }

    /** Prints {@code text} as a line, without its control characters. */
    private void println(String text) {
        out.println(TerminalText.safe(text));
        out.flush();
    }

    private void saveHistory() {
        try {
            reader.getHistory().save();
        } catch (IOException e) {
            LOG.warn("could not save the line history: {}", e.toString());
        }
    }
}
