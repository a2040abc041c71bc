package dev.parley.bench.sidebyside;

import dev.langchain4j.model.openai.OpenAiTokenCountEstimator;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Realistic chat messages for the side-by-side benchmark: a fixed, seeded pool of about 40-word messages in
 * everyday English (no two alike), with each message's token count in the o200k encoding. Immutable.
 */
final class Corpus {
    static final int SIZE = 4_096;
    private static final String[] WORDS = ("the a to of and in is for that it on with as you this be are we can "
            + "have not or will your our at by from they if do but about all so more one there when which what "
            + "their how would could should need plan team project customer order account price report data "
            + "meeting week month quarter budget release issue ticket invoice payment delivery update change "
            + "review question answer reason problem solution option result number date time today tomorrow "
            + "yesterday morning afternoon evening product service support feature request version server "
            + "database file page screen user login password email message call phone office manager client "
            + "contract policy risk cost revenue growth sales market region country city travel booking hotel "
            + "flight ticket schedule deadline task list note draft summary detail example step process "
            + "check confirm send receive open close start finish move keep make take give help show tell "
            + "ask explain describe compare choose prefer suggest recommend expect follow include remove add "
            + "new old next last first second better best early late quick simple clear exact current recent "
            + "available possible important different similar usual main other same whole every each any "
            + "please thanks sure maybe really still already again also just only even almost").split(" ");
    private static final String[] ENDS = {".", ".", ".", "?", "!"};

    private final List<String> texts;
    private final int[] tokens;

    Corpus() {
        Random random = new Random(42);
        OpenAiTokenCountEstimator counter = new OpenAiTokenCountEstimator("gpt-4o");
        texts = new ArrayList<>(SIZE);
        tokens = new int[SIZE];
        for (int i = 0; i < SIZE; i++) {
            StringBuilder text = new StringBuilder(300);
            int words = 34 + random.nextInt(13);
            boolean sentenceStart = true;
            for (int w = 0; w < words; w++) {
                String word = WORDS[random.nextInt(WORDS.length)];
                if (sentenceStart) {
                    word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                }
                text.append(word);
                sentenceStart = w == words - 1 || random.nextInt(12) == 0;
                if (sentenceStart) {
                    text.append(ENDS[random.nextInt(ENDS.length)]);
                } else if (random.nextInt(9) == 0) {
                    text.append(',');
                }
                if (w < words - 1) {
                    text.append(' ');
                }
            }
            // A number now and then, as real messages have (an order, an amount, a date).
            text.append(" Ref ").append(10_000 + random.nextInt(90_000)).append('.');
            texts.add(text.toString());
            tokens[i] = counter.estimateTokenCountInText(texts.get(i));
        }
    }

    /** The message at {@code n}, cycling through the pool. */
    String text(long n) {
        return texts.get((int) (n % SIZE));
    }

    /** The o200k token count of {@link #text(long)}. */
    int tokens(long n) {
        return tokens[(int) (n % SIZE)];
    }

    /** The mean token count of a message. */
    int meanTokens() {
        long sum = 0;
        for (int t : tokens) {
            sum += t;
        }
        return (int) (sum / SIZE);
    }

    /** The mean length of a message, in characters. */
    int meanChars() {
        long sum = 0;
        for (String t : texts) {
            sum += t.length();
        }
        return (int) (sum / SIZE);
    }
}
