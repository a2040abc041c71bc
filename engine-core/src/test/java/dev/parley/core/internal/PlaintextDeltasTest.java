package dev.parley.core.internal;

import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The plain-text deltas of a markdown stream: they add up to the reply's plain text and come as it streams. */
class PlaintextDeltasTest {
    /** Replies as models write them: headings, emphasis across words, lists, code, links, several paragraphs. */
    private static final List<String> REPLIES = List.of(
            "Sure! Here is how to reset your password. Open the settings page and choose the account tab.",
            "# Resetting a password\n\nOpen **Settings**, then *Account*. Choose `Reset` and follow the link we email"
                    + " you.\n\n1. Open the app\n2. Tap **Forgot password**\n3. Check your inbox\n\nThat's it.",
            "You can do it in two ways:\n\n- through the [web page](https://example.com/reset)\n- with the CLI:\n\n"
                    + "```bash\nparley reset --user alice\n```\n\nBoth send a **one-time** link that expires in"
                    + " 30 minutes.",
            "A line\nthat wraps onto a second line, then _emphasis that spans\ntwo lines_ and a final sentence.",
            "> A quote from the docs\n\nAnd a note with a\\*literal star and 3 < 4 & 5 > 2.");

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void wordByWordDeltasAddUpToTheWholeReplysPlainText(int reply) {
        String markdown = REPLIES.get(reply);
        assertThat(streamed(ScriptedModel.chunksOf(markdown))).isEqualTo(Plaintext.of(markdown));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void characterByCharacterDeltasAddUpToTheWholeReplysPlainText(int reply) {
        String markdown = REPLIES.get(reply);
        List<String> chars = new ArrayList<>();
        markdown.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
        assertThat(streamed(chars)).isEqualTo(Plaintext.of(markdown));
    }

    @Test
    void plainTextIsHandedOnAsItArrives() {
        PlaintextDeltas deltas = new PlaintextDeltas();
        assertThat(deltas.next("Sure! ")).isEqualTo("Sure!");
        assertThat(deltas.next("Open the ")).isEqualTo(" Open the");
        assertThat(deltas.next("settings")).isEqualTo(" settings");
    }

    @Test
    void markupIsHeldBackUntilItsParagraphEndsAndNeverShown() {
        PlaintextDeltas deltas = new PlaintextDeltas();
        List<String> out = new ArrayList<>();
        for (String piece : List.of("Open ", "**Set", "tings** ", "now.", "\n\n", "# Next")) {
            out.add(deltas.next(piece));
        }
        assertThat(out).containsExactly("Open", "", "", "", " Settings now.", "");
        assertThat(String.join("", out)).doesNotContain("*");
        assertThat(deltas.rest("Open Settings now.\nNext")).isEqualTo("\nNext");
    }

    @Test
    void aHeadingIsHandedOnWithoutItsHashes() {
        PlaintextDeltas deltas = new PlaintextDeltas();
        assertThat(deltas.next("# Title")).isEmpty();
        assertThat(deltas.next("\n\nBody")).isEqualTo("Title\nBody");
    }

    @Test
    void aReferenceDefinitionWrittenAfterItsLinkDropsNoTextThatFollows() {
        String markdown = "See [docs] for more.\n\n[docs]: https://example.com\n\nMore text after it, in a paragraph"
                + " of its own.\n\nAnd a last one.";
        String streamed = streamed(ScriptedModel.chunksOf(markdown));
        assertThat(streamed).startsWith("See [docs] for more.").contains("More text after it, in a paragraph of its own.")
                .endsWith("And a last one.");
        String characterByCharacter = streamed(markdown.chars().mapToObj(c -> String.valueOf((char) c)).toList());
        assertThat(characterByCharacter).contains("More text after it").endsWith("And a last one.");
    }

    @Test
    void aLongReplyIsRenderedInSegmentsThatAddUpToItsPlainText() {
        StringBuilder md = new StringBuilder();
        for (int i = 1; i <= 60; i++) {
            md.append("Paragraph ").append(i).append(" explains **step ").append(i).append("** of the upgrade, with a")
                    .append(" `setting` to change and *why* it matters for the team's reports and exports.\n\n");
        }
        md.append("- a list item\n- another one\n\nDone.");
        String markdown = md.toString();
        assertThat(markdown.length()).isGreaterThan(3 * PlaintextDeltas.SEGMENT_CHARS);
        assertThat(streamed(ScriptedModel.chunksOf(markdown))).isEqualTo(Plaintext.of(markdown));
    }

    @Test
    void aCancelledReplysPartialTextIsHandedOnWhole() {
        PlaintextDeltas deltas = new PlaintextDeltas();
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("Open ", "**Settings** ", "and ch")) {
            out.append(deltas.next(piece));
        }
        out.append(deltas.rest(Plaintext.of("Open **Settings** and ch")));
        assertThat(out.toString()).isEqualTo("Open Settings and ch");
    }

    private static String streamed(List<String> pieces) {
        PlaintextDeltas deltas = new PlaintextDeltas();
        StringBuilder out = new StringBuilder();
        String markdown = String.join("", pieces);
        for (String piece : pieces) {
            out.append(deltas.next(piece));
        }
        out.append(deltas.rest(Plaintext.of(markdown)));
        return out.toString();
    }
}
