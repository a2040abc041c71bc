package dev.parley.core;

import dev.parley.api.ConversationInfo;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.HistoryMessage;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the model request of a turn, in this order:
 * <ol>
 *   <li>a system message from steering: the personality text, or else the resolved brand voice; then the
 *       resolved target audience (absent when there is no steering);</li>
 *   <li>when history had to be left out, the conversation compacts ({@link EngineServices#compaction()}) and its
 *       store holds a summary ({@link dev.parley.api.spi.SummaryLog#latestSummary}): the latest summary, as a system
 *       message starting {@link #SUMMARY_HEADING}, counted in the budget by its stored token count. Messages it
 *       covers are not sent again. A summary that does not fit the budget is left out;</li>
 *   <li>the newest history that fits the turn's {@code contextSize} once the prompt and additional context
 *       (and the summary) are counted, oldest dropped first; a prompt and its reply are kept or dropped together.
 *       An empty assistant reply (a stream cancelled before its first delta) is left out, since several providers
 *       refuse empty assistant messages; its prompt stays, as the user did say it and the history stores it;</li>
 *   <li>each additional-context snippet of this turn, as a system message;</li>
 *   <li>the prompt.</li>
 * </ol>
 * A prompt whose text, additional context and steering alone exceed the model's context window
 * ({@link dev.parley.api.values.EngineServices#contextWindow}) is refused with an {@link InvalidRequestException}
 * naming {@code text} (or {@code additionalContext} when it has snippets) before history is read or the model
 * called. History is read from the store newest first with the token counts stored on each message, in one read
 * sized from the budget: as many messages as the budget holds if they are about the size of this turn's prompt, a
 * quarter more and one more turn. Only when the history's messages are much smaller than that is a further read
 * made, sized from the budget left and the messages read so far; reading stops when the budget is full, so the
 * cost of a turn does not grow with the length of the conversation. The summary is read only by a turn that left
 * history out. A turn that left history out carries {@link #LEFT_OUT} for the stages after this one and for the
 * engine's compaction. Stateless and thread safe.
 */
public final class ContextStage implements PromptStage {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ContextStage.class);
    /** The fewest tokens a history message is assumed to hold when the first read is sized. */
    static final int MIN_MESSAGE_ESTIMATE = 8;
    /** The most messages one history read asks for. */
    static final int MAX_READ = 4096;

    /** What the system message holding a conversation's summary starts with. */
    public static final String SUMMARY_HEADING = "Summary of the earlier conversation:\n";

    /**
     * Set on a turn whose request leaves history out: which messages it left out and how much of them the summary it
     * sent covers.
     */
    public static final dev.parley.api.TurnAttribute<LeftOut> LEFT_OUT =
            dev.parley.api.TurnAttribute.of("parley.context.leftOut", LeftOut.class);

    /**
     * What a turn's request left out of the history.
     *
     * @param below every message with a sequence below this one is not in the request (but for what the summary says)
     * @param summarizedTo the last sequence the conversation's latest summary covers (sent in the request, or left
     *                     out when it did not fit); 0 when there is none or the conversation is not compacted
     * @param messageTokens the mean stored token count of the messages the stage read, rounded up
     */
    public record LeftOut(long below, long summarizedTo, int messageTokens) {
        /** Whether some left-out message is not covered by the summary. */
        public boolean uncovered() {
            return below - 1 > summarizedTo;
        }

        /**
         * About how many tokens the left-out messages no summary covers hold, if they are of the size of those read;
         * compaction decides from this whether to read them.
         */
        public long uncoveredTokens() {
            return Math.max(0, below - 1 - summarizedTo) * (long) messageTokens;
        }
    }

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        TokenCounter counter = chain.services().tokenCounter(turn.model());
        String system = systemText(turn.conversation(), chain.services().steeringResolver());

        int promptTokens = counter.count(turn.prompt().text());
        long contextTokens = 0;
        for (String snippet : turn.prompt().additionalContext()) {
            contextTokens += counter.count(snippet);
        }
        long systemTokens = system == null ? 0 : counter.count(system);
        int window = chain.services().contextWindow(turn.model(), turn.conversation());
        if (promptTokens + contextTokens + systemTokens > window) {
            // Refused before any history is read or the model is called: the provider would refuse it too, after
            // the tokens were sent (and perhaps paid for).
            throw new InvalidRequestException(turn.prompt().additionalContext().isEmpty() ? "text" : "additionalContext",
                    "the prompt needs about " + (promptTokens + contextTokens + systemTokens) + " tokens with its "
                            + "steering and additional context; model " + turn.model() + " takes at most " + window);
        }
        long budget = turn.contextSize() - promptTokens - contextTokens;
        Window read = newestHistory(chain.services().store(), turn.conversation().id(), budget,
                readSize(budget, Math.max(MIN_MESSAGE_ESTIMATE, promptTokens)));
        List<HistoryMessage> history = read.history;
        dev.parley.api.compaction.Summary summary = null;
        long summarizedTo = 0;
        if (read.trimmed && compacts(chain.services(), turn)) {
            dev.parley.api.compaction.Summary latest = chain.services().latestSummary(turn.conversation().id())
                    .orElse(null);
            if (latest != null) {
                // A summary larger than the budget is not sent, but it still covers what it covers.
                summarizedTo = latest.toSequence();
                if (latest.tokens() <= budget) {
                    summary = latest;
                    history = afterSummary(history, summary, budget - summary.tokens());
                }
            }
        }

        List<ModelMessage> request = new ArrayList<>(history.size() + turn.prompt().additionalContext().size() + 3);
        long requestTokens = promptTokens + contextTokens;
        if (system != null) {
            request.add(ModelMessage.system(system));
            requestTokens += systemTokens;
        }
        if (summary != null) {
            request.add(ModelMessage.system(SUMMARY_HEADING + summary.text()));
            requestTokens += summary.tokens();
        }
        for (HistoryMessage m : history) {
            if (m.role() == Role.ASSISTANT && m.text().isEmpty()) {
                // A stream cancelled before its first delta: an empty assistant message, which some providers
                // refuse. Its prompt stays; the nothing it answered is left out.
                continue;
            }
            request.add(m.role() == Role.USER ? ModelMessage.user(m.text()) : ModelMessage.assistant(m.text()));
            requestTokens += m.tokens();
        }
        for (String snippet : turn.prompt().additionalContext()) {
            request.add(ModelMessage.system(snippet));
        }
        request.add(ModelMessage.user(turn.prompt().text()));
        Turn built = turn.withRequest(request, promptTokens, requestTokens);
        if (read.trimmed) {
            long below = history.isEmpty() ? read.newest + 1 : history.get(0).sequence();
            built = built.withAttribute(LEFT_OUT, new LeftOut(below, summarizedTo, read.messageTokens));
        }
        return chain.proceed(built);
    }

    /** Whether the turn's conversation is compacted; a failing predicate of the host's counts as no, logged. */
    private static boolean compacts(EngineServices services, Turn turn) {
        try {
            return services.compaction().appliesTo(turn.conversation());
        } catch (RuntimeException e) {
            LOG.warn("Compaction's predicate failed on conversation {}; the turn is trimmed only",
                    turn.conversation().id(), e);
            return false;
        }
    }

    /**
     * The history after what the summary covers, oldest first, without its oldest whole turns until it fits
     * {@code budget}.
     */
    private static List<HistoryMessage> afterSummary(List<HistoryMessage> history,
                                                     dev.parley.api.compaction.Summary summary, long budget) {
        long used = 0;
        for (HistoryMessage m : history) {
            used += m.tokens();
        }
        int from = 0;
        while (from < history.size() && (used > budget || history.get(from).sequence() <= summary.toSequence())) {
            // Drop the oldest turn whole: its prompt and every message up to the next prompt.
            do {
                used -= history.get(from).tokens();
                from++;
            } while (from < history.size() && history.get(from).role() != Role.USER);
        }
        return from == 0 ? history : history.subList(from, history.size());
    }

    /** The steering text of the system message, or null for none. */
    static String systemText(ConversationInfo c, SteeringResolver resolver) {
        Steering s = c.steering();
        List<String> parts = new ArrayList<>(2);
        if (s.personality() != null) {
            parts.add(s.personality());
        } else if (s.brandVoiceId() != null) {
            resolver.brandVoice(c.organizationId(), s.brandVoiceId()).ifPresent(parts::add);
        }
        if (s.targetAudienceId() != null) {
            resolver.targetAudience(c.organizationId(), s.targetAudienceId())
                    .ifPresent(a -> parts.add("Target audience: " + a));
        }
        return parts.isEmpty() ? null : String.join("\n\n", parts);
    }

    /**
     * How many messages to read for {@code budget} tokens of history when a message holds about
     * {@code perMessage}: those, a quarter more, and one more turn, within 4 and {@link #MAX_READ} (the first read
     * at most 512).
     */
    static int readSize(long budget, long perMessage) {
        long n = budget / Math.max(1, perMessage);
        n += n / 4 + 2;
        return (int) Math.max(4, Math.min(n, MAX_READ));
    }

    /**
     * The history a turn's request holds.
     *
     * @param history the newest whole turns that fit, oldest first
     * @param trimmed whether older history may have been left out
     * @param newest the sequence of the newest message read; 0 when none was
     */
    private record Window(List<HistoryMessage> history, boolean trimmed, long newest, int messageTokens) {
    }

    /** The newest whole turns whose stored token counts fit {@code budget}. */
    private static Window newestHistory(ConversationStore store, String conversationId, long budget, int firstRead) {
        List<HistoryMessage> kept = new ArrayList<>();
        if (budget <= 0) {
            List<HistoryMessage> newest = store.recentHistory(conversationId, Long.MAX_VALUE, 1);
            return new Window(kept, !newest.isEmpty(), newest.isEmpty() ? 0 : newest.get(0).sequence(),
                    newest.isEmpty() ? 0 : newest.get(0).tokens());
        }
        long newestRead = 0;
        List<HistoryMessage> group = new ArrayList<>(2);
        long groupTokens = 0;
        long used = 0;
        long before = Long.MAX_VALUE;
        long readTokens = 0;
        long readMessages = 0;
        int limit = Math.min(firstRead, 512);
        while (true) {
            List<HistoryMessage> page = store.recentHistory(conversationId, before, limit);
            for (HistoryMessage m : page) {
                if (newestRead == 0) {
                    newestRead = m.sequence();
                }
                readTokens += m.tokens();
                readMessages++;
                before = m.sequence();
                group.add(m);
                groupTokens += m.tokens();
                if (m.role() == Role.USER) {
                    // A user message opens its turn: the group now holds the whole turn, newest message first.
                    if (used + groupTokens > budget) {
                        return new Window(reversed(kept), true, newestRead, average(readTokens, readMessages));
                    }
                    used += groupTokens;
                    kept.addAll(group);
                    group.clear();
                    groupTokens = 0;
                }
            }
            if (page.size() < limit) {
                // the history ran out
                return new Window(reversed(kept), !group.isEmpty(), newestRead, average(readTokens, readMessages));
            }
            if (used + groupTokens >= budget) {
                // the budget ran out
                return new Window(reversed(kept), true, newestRead, average(readTokens, readMessages));
            }
            // The messages were smaller than the estimate: read on, sized from what is left and what was read.
            limit = readSize(budget - used - groupTokens, Math.max(1, readTokens / readMessages));
        }
    }

    /** The mean of {@code tokens} over {@code messages}, rounded up; 0 for none. */
    private static int average(long tokens, long messages) {
        return messages == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (tokens + messages - 1) / messages);
    }

    private static List<HistoryMessage> reversed(List<HistoryMessage> newestFirst) {
        List<HistoryMessage> out = new ArrayList<>(newestFirst.size());
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            out.add(newestFirst.get(i));
        }
        return out;
    }
}
