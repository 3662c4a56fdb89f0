package dev.understudy.job.report;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Headless Chromium for page checks: Debian's {@code chromium}, installed with apt-get where missing
 * (the test is skipped, saying why, only when it cannot be installed).
 */
final class Chromium {
    private Chromium() {}

    static String binary() throws Exception {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
        }
        System.out.println("chromium not found: installing Debian's chromium with apt-get");
        Process p = new ProcessBuilder("apt-get", "install", "-y", "--no-install-recommends", "chromium")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        Assumptions.assumeTrue(done && p.exitValue() == 0 && Files.isExecutable(Path.of("/usr/bin/chromium")),
                "skipped: headless Chromium is missing and `apt-get install chromium` failed (exit "
                        + (done ? p.exitValue() : "timeout") + "); install Debian's chromium to run this check");
        return "/usr/bin/chromium";
    }

    /** Renders {@code html} headless into {@code png} at {@code width}×{@code height}. */
    static void screenshot(Path html, Path png, int width, int height) throws Exception {
        Path profile = Files.createTempDirectory("chromium-profile");
        Process p = new ProcessBuilder(binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=" + width + "," + height,
                "--screenshot=" + png.toAbsolutePath(), html.toUri().toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish within 2 minutes:\n" + log);
        }
        if (p.exitValue() != 0 || !Files.exists(png)) {
            throw new AssertionError("chromium --screenshot failed (exit " + p.exitValue() + "):\n" + log);
        }
    }
}
