package dev.parley.bench;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.Policy;
import dev.parley.policy.DenyListPolicy;
import dev.parley.policy.PiiPolicy;
import dev.parley.policy.PromptInjectionPolicy;
import dev.parley.policy.SecretsPolicy;
import dev.parley.policy.SizePolicy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One check of each built-in policy (and of all of them in turn) over one of two texts, the same every run:
 * <ul>
 *   <li>{@code dense}: a prompt of about 4,000 tokens, some 16,000 characters of varied English prose with a few
 *       e-mail addresses, phone and order numbers, dates and one API key mixed in. MB/s = 16,000 characters / the
 *       time per check.</li>
 *   <li>{@code ordinary}: a prompt of about 250 tokens, some 1,000 characters of the same prose (order numbers,
 *       dates and versions included) with nothing for any policy to find: a turn's usual case.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar PolicyBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class PolicyBenchmark {
    /** Which policy checks the text. */
    @Param({"secrets", "pii", "deny-list", "size", "prompt-injection", "all"})
    public String policy;

    /** Which text is checked: {@code dense} (16,000 characters with findings) or {@code ordinary} (1,000, none). */
    @Param({"dense", "ordinary"})
    public String text;

    private static final String[] SENTENCES = {
        "The support queue was shorter this week than it has been since the spring.",
        "Most of the tickets were about the new billing page and the invoices it sends.",
        "We shipped the release on Wednesday after the last checks passed on the staging servers.",
        "Two customers asked for an export of their data in a format their accountants can read.",
        "The migration of the old reports took longer than planned because of the archived years.",
        "Please send the summary to the team before the meeting on Thursday morning.",
        "Order 48213 was delivered on 2026-03-14, two days later than the carrier promised.",
        "Version 4.2.1 fixes the rounding of totals in the monthly statement.",
        "Our office moved to the third floor, so the visitors' entrance is now on the side street.",
        "The survey had a response rate of about 38 percent, which is higher than last year.",
        "If anything in the plan is unclear, write it down and we will go through it together.",
        "The training budget covers one course per person this year and a shared conference ticket.",
    };

    private String input;
    private List<Policy> policies;

    @Setup
    public void setUp() {
        Random random = new Random(42);
        StringBuilder b = new StringBuilder();
        int n = 0;
        while (b.length() < 16_000) {
            b.append(SENTENCES[random.nextInt(SENTENCES.length)]).append(' ');
            n++;
            if (n % 40 == 0) {
                b.append("You can reach Maria at maria.keller").append(n).append("@example.org or on +44 20 7946 0")
                        .append(100 + n % 800).append(". ");
            }
            if (n == 120) {
                b.append("The staging key is AKIAZ7QK4MV2XW5RT6PL, rotate it after the demo. ");
            }
        }
        String dense = b.toString();
        b.setLength(0);
        while (b.length() < 1_000) {
            b.append(SENTENCES[random.nextInt(SENTENCES.length)]).append(' ');
        }
        String ordinary = b.toString();
        input = switch (text) {
            case "dense" -> dense;
            case "ordinary" -> ordinary;
            default -> throw new IllegalStateException("no text " + text);
        };
        List<Policy> all = List.of(SecretsPolicy.standard(), PiiPolicy.standard(),
                DenyListPolicy.words("confidential", "internal only", "do not distribute", "password", "salary",
                        "layoff", "acquisition", "lawsuit", "settlement", "breach", "exploit", "malware",
                        "ransomware", "phishing", "insider", "embargo", "classified", "restricted",
                        "secret project", "merger"),
                SizePolicy.maxChars(100_000), PromptInjectionPolicy.standard());
        policies = new ArrayList<>();
        for (Policy p : all) {
            if (policy.equals("all") || p.id().equals(policy)) {
                policies.add(p);
            }
        }
        if (policies.isEmpty()) {
            throw new IllegalStateException("no policy " + policy);
        }
        if (text.equals("ordinary") && check() != 0) {
            throw new IllegalStateException("the ordinary text must hold nothing to find");
        }
    }

    /** One check of the prompt before the model call, by each policy of the parameter. */
    @Benchmark
    public int check() {
        PolicyInput in = PolicyInput.of(PolicyPhase.PRE, input);
        int found = 0;
        for (Policy p : policies) {
            List<Finding> findings = p.check(in);
            found += findings.size();
        }
        return found;
    }
}
