package dev.parley.core;

import dev.parley.api.ConversationInfo;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;
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
 *   <li>the newest history that fits the turn's {@code contextSize} once the prompt and additional context
 *       are counted, oldest dropped first; a prompt and its reply are kept or dropped together. An empty
 *       assistant reply (a stream cancelled before its first delta) is left out, since several providers
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
 * cost of a turn does not grow with the length of the conversation. Stateless and thread safe.
 */
public final class ContextStage implements PromptStage {
    /** The fewest tokens a history message is assumed to hold when the first read is sized. */
    static final int MIN_MESSAGE_ESTIMATE = 8;
    /** The most messages one history read asks for. */
    static final int MAX_READ = 4096;

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
        List<HistoryMessage> history = newestHistory(chain.services().store(), turn.conversation().id(), budget,
                readSize(budget, Math.max(MIN_MESSAGE_ESTIMATE, promptTokens)));

        List<ModelMessage> request = new ArrayList<>(history.size() + turn.prompt().additionalContext().size() + 2);
        long requestTokens = promptTokens + contextTokens;
        if (system != null) {
            request.add(ModelMessage.system(system));
            requestTokens += systemTokens;
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
        return chain.proceed(turn.withRequest(request, promptTokens, requestTokens));
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

    /** The newest whole turns whose stored token counts fit {@code budget}, oldest first. */
    private static List<HistoryMessage> newestHistory(ConversationStore store, String conversationId, long budget,
                                                      int firstRead) {
        List<HistoryMessage> kept = new ArrayList<>();
        if (budget <= 0) {
            return kept;
        }
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
                readTokens += m.tokens();
                readMessages++;
                before = m.sequence();
                group.add(m);
                groupTokens += m.tokens();
                if (m.role() == Role.USER) {
                    // A user message opens its turn: the group now holds the whole turn, newest message first.
                    if (used + groupTokens > budget) {
                        return reversed(kept);
                    }
                    used += groupTokens;
                    kept.addAll(group);
                    group.clear();
                    groupTokens = 0;
                }
            }
            if (page.size() < limit || used + groupTokens >= budget) {
                return reversed(kept); // the history or the budget ran out
            }
            // The messages were smaller than the estimate: read on, sized from what is left and what was read.
            limit = readSize(budget - used - groupTokens, Math.max(1, readTokens / readMessages));
        }
    }

    private static List<HistoryMessage> reversed(List<HistoryMessage> newestFirst) {
        List<HistoryMessage> out = new ArrayList<>(newestFirst.size());
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            out.add(newestFirst.get(i));
        }
        return out;
    }
}
