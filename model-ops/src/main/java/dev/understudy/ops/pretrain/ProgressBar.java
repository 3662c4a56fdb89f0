package dev.understudy.ops.pretrain;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Console progress for a step loop. On a terminal it redraws one line in place ({@code \r}) at most
 * every {@link #REDRAW_NANOS}: a bar, step/total, loss, tokens/s and ETA. Elsewhere (a log file, a
 * pipe) it prints a plain line every 5% of the steps and at the end, so logs stay readable.
 * Messages ({@link #println}) go on their own line in both modes.
 */
public final class ProgressBar {
    static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final boolean interactive;
    private final String label;
    private final long total;
    private final long first;
    private final long startNanos;
    private final LongSupplier clock;
    private long lastDraw;
    private boolean drawSoon = true; // draw at the next update regardless of the clock
    private long lastPlainStep = -1;
    private int drawnWidth;

    /**
     * @param interactive redraw one line (a terminal) or print plain lines
     * @param label shown before the bar, e.g. the member name
     * @param first step the loop starts from (a resumed run's step), for the ETA
     * @param total last step
     */
    public ProgressBar(PrintStream out, boolean interactive, String label, long first, long total) {
        this(out, interactive, label, first, total, System::nanoTime);
    }

    ProgressBar(PrintStream out, boolean interactive, String label, long first, long total, LongSupplier clock) {
        this.out = out;
        this.interactive = interactive;
        this.label = label;
        this.first = first;
        this.total = total;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
    }

    /** Whether standard output looks like a terminal (a console attached to the JVM). */
    public static boolean stdoutIsTerminal() {
        return System.console() != null;
    }

    /** Reports that {@code step} of {@code total} is done. */
    public void update(long step, double loss, double tokensPerSecond) {
        long now = clock.getAsLong();
        if (interactive) {
            if (!drawSoon && step < total && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            drawSoon = false;
            lastDraw = now;
            String line = line(step, loss, tokensPerSecond, now, true);
            out.print("\r" + line + " ".repeat(Math.max(0, drawnWidth - line.length())));
            drawnWidth = line.length();
            if (step >= total) {
                out.println();
                drawnWidth = 0;
            }
            out.flush();
        } else {
            long every = Math.max(1, total / 20);
            if (step >= total || step == first + 1 || step - Math.max(lastPlainStep, first) >= every) {
                lastPlainStep = step;
                out.println(line(step, loss, tokensPerSecond, now, false));
                out.flush();
            }
        }
    }

    /** Prints {@code message} on its own line (clearing a half-drawn bar first). */
    public void println(String message) {
        if (interactive && drawnWidth > 0) {
            out.print("\r" + " ".repeat(drawnWidth) + "\r");
            drawnWidth = 0;
            drawSoon = true;
        }
        out.println(message);
        out.flush();
    }

    String line(long step, double loss, double tokensPerSecond, long now, boolean bar) {
        StringBuilder sb = new StringBuilder();
        sb.append(label).append(' ');
        if (bar) {
            int filled = total <= 0 ? BAR_WIDTH : (int) (BAR_WIDTH * Math.min(1.0, (double) step / total));
            sb.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        }
        sb.append(String.format(Locale.ROOT, "step %d/%d  loss %.4f  %s tok/s  ETA %s", step, total, loss,
                tokensPerSecond > 0 && Double.isFinite(tokensPerSecond) ? String.format(Locale.ROOT, "%,.0f", tokensPerSecond) : "-",
                eta(step, now)));
        return sb.toString();
    }

    private String eta(long step, long now) {
        long done = step - first;
        if (done <= 0) {
            return "-";
        }
        double perStep = (now - startNanos) / 1e9 / done;
        return duration(perStep * (total - step));
    }

    /** {@code 75} → {@code "1m15s"}, {@code 3700} → {@code "1h01m"}. */
    static String duration(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
