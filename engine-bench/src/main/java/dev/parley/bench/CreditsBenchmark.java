package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.store.jdbc.JdbcConversationStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a budget costs a turn: the same send with no credit account, with one (the organization's) and with three
 * (organization, workspace and user), in one run. Each send is a 200-token prompt with about 10 messages of history,
 * to one of 200 conversations in turn, answered by an instant model that reports its usage; the model is priced,
 * so with accounts every send reserves before the call and is charged in its commit.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar CreditsBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class CreditsBenchmark {
    /** How many credit accounts a turn is charged to: {@code none}, {@code one} or {@code three}. */
    @Param({"none", "one", "three"})
    public String accounts;

    /** Where Parley keeps the conversations and the credits: {@code memory} or a durable {@code h2file}. */
    @Param({"memory", "h2file"})
    public String store;

    private static final int CONVERSATIONS = 200;

    private Path dir;
    private ConversationEngine engine;
    private final List<Conversation> conversations = new ArrayList<>();
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        ConversationEngine.Builder builder = ConversationEngine.builder()
                .model("instant", new GovernanceBenchmark.InstantModel())
                .price("instant", ModelPrice.perThousand("0.15", "0.60"));
        if (store.equals("h2file")) {
            dir = Files.createTempDirectory("parley-credits-bench");
            builder.store(JdbcConversationStore.h2File(dir.resolve("parley")));
        }
        engine = builder.build();
        CreditAccounts credits = engine.credits();
        List<AccountOwner> owners = switch (accounts) {
            case "none" -> List.of();
            case "one" -> List.of(AccountOwner.organization("org"));
            case "three" -> List.of(AccountOwner.organization("org"), AccountOwner.workspace("org", "ws"),
                    AccountOwner.user("org", "bench"));
            default -> throw new IllegalArgumentException("accounts: " + accounts);
        };
        for (AccountOwner owner : owners) {
            credits.topUp(credits.open(owner).id(), new BigDecimal("1000000000"), "benchmark funds");
        }
        var mine = engine.as(Caller.user("bench", "org").member("ws").build());
        for (int i = 0; i < CONVERSATIONS; i++) {
            Conversation c = mine.create(NewConversation.inWorkspace("ws").build());
            for (int t = 0; t < 5; t++) {
                c.send(Prompt.text(GovernanceBenchmark.PROMPT).build()); // 10 messages of history
            }
            conversations.add(c);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        engine.close();
        TempDirs.delete(dir);
    }

    /** One whole send, to the next conversation. */
    @Benchmark
    public Reply send() {
        Conversation c = conversations.get(next);
        next = (next + 1) % CONVERSATIONS;
        Reply reply = c.send(Prompt.text(GovernanceBenchmark.PROMPT).build());
        if (reply.credits().metered() == accounts.equals("none")) {
            throw new IllegalStateException("the benchmark's turn was metered=" + reply.credits().metered());
        }
        return reply;
    }
}
