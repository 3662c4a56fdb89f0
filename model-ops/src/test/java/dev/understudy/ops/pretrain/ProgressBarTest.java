package dev.understudy.ops.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    final AtomicLong now = new AtomicLong();

    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainModePrintsAboutEveryFivePercentAndTheLastStep() {
        ProgressBar bar = new ProgressBar(out, false, "m", 0, 100, now::get);
        for (int step = 1; step <= 100; step++) {
            now.addAndGet(1_000_000_000L); // one second per step
            bar.update(step, 2.5, 1000);
        }
        String[] lines = text().split("\n");
        assertThat(lines).hasSize(21); // step 1, then every 5 steps up to 100
        assertThat(lines[0]).isEqualTo("m step 1/100  loss 2.5000  1,000 tok/s  ETA 1m39s");
        assertThat(lines[20]).isEqualTo("m step 100/100  loss 2.5000  1,000 tok/s  ETA 0s");
        assertThat(text()).doesNotContain("\r");
    }

    @Test
    void terminalModeRedrawsOneLineAtMostTenTimesASecond() {
        ProgressBar bar = new ProgressBar(out, true, "m", 10, 20, now::get);
        now.set(1); // first draw at t > start
        bar.update(11, 3.0, 0);
        now.addAndGet(50_000_000L); // 50 ms later: throttled
        bar.update(12, 3.0, 0);
        bar.println("eval line");
        now.addAndGet(200_000_000L);
        bar.update(20, 2.0, 500);
        String t = text();
        assertThat(t).startsWith("\rm [#############...........] step 11/20");
        assertThat(t).doesNotContain("step 12/20");
        assertThat(t).contains("eval line\n");
        assertThat(t).contains("\rm [########################] step 20/20  loss 2.0000  500 tok/s  ETA 0s");
        assertThat(t).endsWith("\n");
    }

    @Test
    void durations() {
        assertThat(ProgressBar.duration(59.4)).isEqualTo("59s");
        assertThat(ProgressBar.duration(75)).isEqualTo("1m15s");
        assertThat(ProgressBar.duration(3700)).isEqualTo("1h01m");
        assertThat(ProgressBar.duration(-3)).isEqualTo("0s");
    }
}
