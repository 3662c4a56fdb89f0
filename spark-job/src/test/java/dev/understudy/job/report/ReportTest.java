package dev.understudy.job.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.FederatedJob;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** {@code understudy report} on two tiny FedAvg runs: the figures are valid images and the page renders. */
class ReportTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    @Test
    void reportOfTwoTinyRunsWritesValidFiguresAndAPageChromiumRenders() throws Exception {
        TinyJob job = TinyJob.create(spark, tmp);
        String a = tmp.resolve("fedavg").toUri().toString();
        String b = tmp.resolve("fedavg-lr05").toUri().toString();
        FederatedJob.run(spark, job.config(a, "server.rounds=2", "client.local_steps=2"), false);
        FederatedJob.run(spark, job.config(b, "server.rounds=2", "client.local_steps=2", "client.lr=0.05"), false);
        assertThat(tmp.resolve("fedavg/label_mix.json")).exists();

        Path out = tmp.resolve("report");
        Report.Result r = Report.write(spark, List.of(a, b), out);

        assertThat(r.figures()).extracting(Figures.Figure::name)
                .containsExactly("loss", "accuracy", "bytes", "client_accuracy", "label_mix"); // same split: one label mix
        for (Figures.Figure f : r.figures()) {
            BufferedImage img = ImageIO.read(f.png().toFile());
            assertThat(img).as(f.png().toString()).isNotNull();
            assertThat(img.getWidth()).isEqualTo(Figures.WIDTH);
            assertThat(img.getHeight()).isEqualTo(Figures.HEIGHT);
            assertThat(colours(img, 0, 0, img.getWidth(), img.getHeight())).as(f.name() + " colours").isGreaterThan(20);
            DocumentBuilderFactory xml = DocumentBuilderFactory.newInstance();
            xml.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false); // offline: the SVG DTD
            Element svg = xml.newDocumentBuilder().parse(f.svg().toFile()).getDocumentElement();
            assertThat(svg.getTagName()).isEqualTo("svg");
            assertThat(svg.getAttribute("width")).startsWith(String.valueOf(Figures.WIDTH));
            assertThat(svg.getAttribute("height")).startsWith(String.valueOf(Figures.HEIGHT));
        }
        assertThat(r.runs()).extracting(RunData::method).containsOnly("fedavg_lora");
        assertThat(r.runs().get(0).rounds()).hasSize(2);
        assertThat(r.runs().get(0).finalClients()).hasSize(8); // every client's held-out rows, round 2
        assertThat(r.runs().get(0).labelMix().clients()).hasSize(8);
        assertThat(r.table()).contains("| fedavg | fedavg_lora | 2 |").contains("| fedavg-lr05 | fedavg_lora | 2 |");

        String html = Files.readString(r.html(), StandardCharsets.UTF_8);
        assertThat(html).contains("<td>fedavg-lr05</td>").doesNotContain("src=\"file:").doesNotContain(".png\"");
        assertThat(html.split("src=\"data:image/png;base64,", -1)).hasSize(r.figures().size() + 1);

        Path shot = tmp.resolve("report-screenshot.png");
        Chromium.screenshot(r.html(), shot, 1000, 3600);
        Files.copy(shot, Path.of("target/report-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BufferedImage page = ImageIO.read(shot.toFile());
        assertThat(page.getWidth()).isEqualTo(1000);
        // not blank: text, table and figures; and the figures rendered (their coloured lines, boxes and
        // heat-map cells; the page's own text and borders are grey)
        assertThat(nonWhite(page)).as("non-white fraction of the screenshot").isGreaterThan(0.01);
        assertThat(colours(page, 0, 0, page.getWidth(), page.getHeight())).isGreaterThan(50);
        assertThat(saturated(page)).as("coloured pixels of the screenshot").isGreaterThan(2000);
    }

    @Test
    void reportRefusesADirectoryWithoutRuns() throws Exception {
        Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> Report.write(spark, List.of(tmp.resolve("empty").toString()), tmp.resolve("r2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no metrics.jsonl");
        assertThatThrownBy(() -> ReportCommand.parse(new String[] {"run1"})).hasMessageContaining("--out DIR");
    }

    private static int colours(BufferedImage img, int x0, int y0, int w, int h) {
        Set<Integer> s = new HashSet<>();
        for (int y = y0; y < y0 + h; y += 2) {
            for (int x = x0; x < x0 + w; x += 2) {
                s.add(img.getRGB(x, y) & 0xffffff);
            }
        }
        return s.size();
    }

    private static long saturated(BufferedImage img) {
        long n = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y);
                int r = rgb >> 16 & 0xff;
                int g = rgb >> 8 & 0xff;
                int b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                    n++;
                }
            }
        }
        return n;
    }

    private static double nonWhite(BufferedImage img) {
        long n = 0;
        long all = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y);
                int r = rgb >> 16 & 0xff;
                int g = rgb >> 8 & 0xff;
                int b = rgb & 0xff;
                all++;
                if (r < 235 || g < 235 || b < 235) {
                    n++;
                }
            }
        }
        return (double) n / all;
    }
}
