package dev.parley.bench.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A line chart written as a standalone SVG file: one or more named series of points, each axis linear or
 * logarithmic (decades), a legend, no script and no external resource, so that a Markdown page can embed it as
 * an image. Made for the benchmarks' figures; not a general plotting library.
 *
 * <p>Not thread safe: build a chart on one thread, then {@link #write(Path)} it.
 */
public final class SvgLineChart {
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    private static final int WIDTH = 800;
    private static final int HEIGHT = 460;
    private static final int LEFT = 90;
    private static final int RIGHT = 240;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private boolean logX;
    private boolean logY;
    private final List<Series> series = new ArrayList<>();

    private record Series(String name, List<double[]> points) {
    }

    /**
     * A chart with the given title and axis labels.
     *
     * @param title  the chart's title, shown above it
     * @param xLabel the horizontal axis' label
     * @param yLabel the vertical axis' label
     */
    public SvgLineChart(String title, String xLabel, String yLabel) {
        this.title = Objects.requireNonNull(title, "title");
        this.xLabel = Objects.requireNonNull(xLabel, "xLabel");
        this.yLabel = Objects.requireNonNull(yLabel, "yLabel");
    }

    /** Puts the horizontal axis on a log scale (every x must then be above 0). */
    public SvgLineChart logX() {
        logX = true;
        return this;
    }

    /** Puts the vertical axis on a log scale (every y must then be above 0). */
    public SvgLineChart logY() {
        logY = true;
        return this;
    }

    /**
     * Adds a series; points are joined in the order given.
     *
     * @param name the series' name, shown in the legend
     * @param xs   the points' x values
     * @param ys   the points' y values, as many as {@code xs}
     */
    public SvgLineChart series(String name, double[] xs, double[] ys) {
        Objects.requireNonNull(name, "name");
        if (xs.length != ys.length) {
            throw new IllegalArgumentException("xs and ys differ in length: " + xs.length + " and " + ys.length);
        }
        List<double[]> points = new ArrayList<>();
        for (int i = 0; i < xs.length; i++) {
            if ((logX && xs[i] <= 0) || (logY && ys[i] <= 0) || !Double.isFinite(xs[i]) || !Double.isFinite(ys[i])) {
                throw new IllegalArgumentException("point " + i + " of series " + name + " cannot be drawn: ("
                        + xs[i] + ", " + ys[i] + ")");
            }
            points.add(new double[] {xs[i], ys[i]});
        }
        series.add(new Series(name, points));
        return this;
    }

    /** Writes the chart to {@code file} (UTF-8), creating its directory if needed. */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, svg(), StandardCharsets.UTF_8);
    }

    /** The chart as SVG text. */
    public String svg() {
        if (series.isEmpty()) {
            throw new IllegalStateException("a chart needs at least one series");
        }
        Axis x = axis(0, logX);
        Axis y = axis(1, logY);
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
                LEFT, escape(title)));
        for (double tick : x.ticks) {
            double px = LEFT + x.position(tick) * plotW;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>%n",
                    px, TOP, px, TOP + plotH));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    px, TOP + plotH + 18, label(tick)));
        }
        for (double tick : y.ticks) {
            double py = TOP + plotH - y.position(tick) * plotH;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    LEFT, py, LEFT + plotW, py));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 6, py + 4, label(tick)));
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#444\"/>%n", LEFT, TOP, plotW, plotH));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotW / 2, HEIGHT - 16, escape(xLabel + (logX ? " (log scale)" : ""))));
        s.append(String.format(Locale.ROOT, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
                        + "transform=\"rotate(-90 18 %d)\">%s</text>%n", TOP + plotH / 2, TOP + plotH / 2,
                escape(yLabel + (logY ? " (log scale)" : ""))));
        for (int i = 0; i < series.size(); i++) {
            Series one = series.get(i);
            String colour = COLOURS[i % COLOURS.length];
            StringBuilder path = new StringBuilder();
            for (double[] p : one.points) {
                path.append(String.format(Locale.ROOT, "%s%.1f,%.1f", path.length() == 0 ? "" : " ",
                        LEFT + x.position(p[0]) * plotW, TOP + plotH - y.position(p[1]) * plotH));
            }
            s.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                    + "stroke-width=\"2\"/>%n", path, colour));
            if (one.points.size() <= 40) {
                for (double[] p : one.points) {
                    s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n",
                            LEFT + x.position(p[0]) * plotW, TOP + plotH - y.position(p[1]) * plotH, colour));
                }
            }
            int ly = TOP + 10 + i * 22;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"3\"/>%n", LEFT + plotW + 14, ly, LEFT + plotW + 36, ly, colour));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n",
                    LEFT + plotW + 42, ly + 4, escape(one.name)));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    /** An axis' range and ticks; {@link #position} maps a value to 0..1 along it. */
    private static final class Axis {
        final boolean log;
        final double lo;
        final double hi;
        final List<Double> ticks = new ArrayList<>();

        Axis(boolean log, double min, double max) {
            this.log = log;
            if (log) {
                lo = Math.floor(Math.log10(min));
                double top = Math.ceil(Math.log10(max));
                hi = top == lo ? lo + 1 : top;
                for (double d = lo; d <= hi + 1e-9; d++) {
                    ticks.add(Math.pow(10, d));
                }
            } else {
                double span = max - Math.min(0, min);
                double step = niceStep(span == 0 ? Math.max(1, Math.abs(max)) : span);
                lo = Math.floor(Math.min(0, min) / step) * step;
                hi = Math.max(lo + step, Math.ceil(max / step) * step);
                for (double t = lo; t <= hi + step * 1e-9; t += step) {
                    ticks.add(t);
                }
            }
        }

        double position(double v) {
            double value = log ? Math.log10(v) : v;
            return (value - lo) / (hi - lo);
        }

        private static double niceStep(double span) {
            double raw = span / 6;
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double fraction = raw / magnitude;
            double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
            return nice * magnitude;
        }
    }

    private Axis axis(int coordinate, boolean log) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series one : series) {
            for (double[] p : one.points) {
                min = Math.min(min, p[coordinate]);
                max = Math.max(max, p[coordinate]);
            }
        }
        return new Axis(log, min, max);
    }

    private static String label(double v) {
        double a = Math.abs(v);
        if (a >= 1_000_000 && a % 1_000_000 == 0) {
            return String.format(Locale.ROOT, "%,.0fM", v / 1_000_000);
        }
        if (a >= 1 || a == 0) {
            return v == Math.rint(v) ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%,.1f", v);
        }
        return String.format(Locale.ROOT, "%s", Double.toString(v));
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
