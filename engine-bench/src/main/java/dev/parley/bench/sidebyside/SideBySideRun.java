package dev.parley.bench.sidebyside;

import dev.parley.bench.charts.SvgLineChart;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.util.Statistics;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs {@link SideBySideBenchmark} through JMH and writes what BENCHMARKS.md quotes: a Markdown table of the
 * median and p99 per turn of every memory at every history length, each median as a multiple of the raw-JDBC
 * minimum's in the same run ({@code side-by-side-table.md}), and a chart of the medians against the history
 * length, both axes on a log scale ({@code side-by-side.svg}), in the working directory.
 *
 * <p>It takes JMH's own command-line options, which narrow or override the benchmark's defaults:
 * {@code java -cp engine-bench/target/benchmarks.jar dev.parley.bench.sidebyside.SideBySideRun -wi 2 -w 2 -i 3
 * -r 3 -f 1}.
 */
public final class SideBySideRun {
    private static final Map<String, String> NAMES = new LinkedHashMap<>();

    static {
        NAMES.put("raw", "raw-JDBC minimum");
        NAMES.put("parley", "Parley");
        NAMES.put("langchain4j", "LangChain4j");
        NAMES.put("springai", "Spring AI");
        NAMES.put("springaisession", "Spring AI Session");
    }

    private SideBySideRun() {
    }

    /**
     * Runs the benchmark with the given JMH options, then writes the table and the chart.
     *
     * @param args JMH's command-line options
     */
    public static void main(String[] args) throws Exception {
        Options options = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(SideBySideBenchmark.class.getName() + ".turn$")
                .build();
        Collection<RunResult> results = new Runner(options).run();
        // memory -> history -> {median, p99}
        Map<String, TreeMap<Integer, double[]>> cells = new LinkedHashMap<>();
        for (RunResult result : results) {
            String memory = result.getParams().getParam("memory");
            int history = Integer.parseInt(result.getParams().getParam("history"));
            Statistics stats = result.getPrimaryResult().getStatistics();
            cells.computeIfAbsent(memory, m -> new TreeMap<>())
                    .put(history, new double[] {stats.getPercentile(50), stats.getPercentile(99)});
        }
        Files.writeString(Path.of("side-by-side-table.md"), table(cells), StandardCharsets.UTF_8);
        chart(cells).write(Path.of("side-by-side.svg"));
    }

    private static String table(Map<String, TreeMap<Integer, double[]>> cells) {
        List<String> memories = ordered(cells);
        TreeMap<Integer, double[]> raw = cells.get("raw");
        java.util.SortedSet<Integer> histories = new java.util.TreeSet<>();
        cells.values().forEach(m -> histories.addAll(m.keySet()));
        StringBuilder s = new StringBuilder("| history |");
        memories.forEach(m -> s.append(' ').append(NAMES.getOrDefault(m, m)).append(" |"));
        s.append("\n|---|");
        memories.forEach(m -> s.append("---:|"));
        s.append('\n');
        for (int history : histories) {
            s.append(String.format(Locale.ROOT, "| %,d |", history));
            for (String memory : memories) {
                double[] cell = cells.get(memory).get(history);
                if (cell == null) {
                    s.append(" – |");
                    continue;
                }
                s.append(String.format(Locale.ROOT, " %,.0f / %,.0f µs", cell[0], cell[1]));
                double[] base = raw == null ? null : raw.get(history);
                if (base != null && !memory.equals("raw")) {
                    double ratio = cell[0] / base[0];
                    s.append(String.format(Locale.ROOT, ratio >= 100 ? " (%,.0f×)" : " (%.1f×)", ratio));
                }
                s.append(" |");
            }
            s.append('\n');
        }
        return s.toString();
    }

    private static SvgLineChart chart(Map<String, TreeMap<Integer, double[]>> cells) {
        SvgLineChart chart = new SvgLineChart("A durable chat turn: median time against the history's length",
                "messages already in the conversation", "median µs per turn").logX().logY();
        for (String memory : ordered(cells)) {
            TreeMap<Integer, double[]> byHistory = cells.get(memory);
            double[] xs = new double[byHistory.size()];
            double[] ys = new double[byHistory.size()];
            int i = 0;
            for (Map.Entry<Integer, double[]> e : byHistory.entrySet()) {
                xs[i] = e.getKey();
                ys[i++] = e.getValue()[0];
            }
            chart.series(NAMES.getOrDefault(memory, memory), xs, ys);
        }
        return chart;
    }

    private static List<String> ordered(Map<String, TreeMap<Integer, double[]>> cells) {
        List<String> memories = new ArrayList<>();
        NAMES.keySet().stream().filter(cells::containsKey).forEach(memories::add);
        cells.keySet().stream().filter(m -> !memories.contains(m)).forEach(memories::add);
        return memories;
    }
}
