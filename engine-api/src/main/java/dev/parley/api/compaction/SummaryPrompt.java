package dev.parley.api.compaction;

import dev.parley.api.Role;
import dev.parley.api.values.HistoryMessage;
import dev.parley.api.values.ModelMessage;

import java.util.List;
import java.util.Optional;

/**
 * What the summarizer model is asked: the request that turns the previous summary (if any) and the next range of
 * history into a new summary. Implementations must be thread safe and must not call the store; the engine counts
 * the request's tokens, reserves its credits and checks the answer with the POST policies.
 */
@FunctionalInterface
public interface SummaryPrompt {

    /**
     * The request for one summary.
     *
     * @param previous the latest stored summary, which the new one replaces; empty for the first
     * @param range the messages after it, oldest first, whole turns
     */
    List<ModelMessage> request(Optional<Summary> previous, List<HistoryMessage> range);

    /** The instructions {@link #DEFAULT} gives the summarizer, as its system message. */
    String DEFAULT_INSTRUCTIONS = "You write the running summary of a conversation between a user and an assistant, "
            + "so that the assistant can go on with it after the messages themselves are left out. Keep every fact, "
            + "name, number, decision, preference and open question the user or the assistant stated; keep what the "
            + "earlier summary says unless the conversation has corrected it. Write plain prose in the third person, "
            + "as short as the facts allow. Answer with the summary only.";

    /**
     * The default request: {@link #DEFAULT_INSTRUCTIONS} as a system message, then one user message holding the
     * earlier summary (when there is one) and the messages, each line starting {@code User:} or
     * {@code Assistant:}.
     */
    SummaryPrompt DEFAULT = (previous, range) -> {
        StringBuilder text = new StringBuilder(256);
        previous.ifPresent(s -> text.append("Earlier summary:\n").append(s.text()).append("\n\n"));
        text.append("Conversation to add to the summary:\n");
        for (HistoryMessage m : range) {
            text.append(m.role() == Role.USER ? "User: " : "Assistant: ").append(m.text()).append('\n');
        }
        return List.of(ModelMessage.system(DEFAULT_INSTRUCTIONS), ModelMessage.user(text.toString()));
    };
}
