package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.DerivedModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code understudy compress} through {@link Main}: dispatch, a run, and one-line errors (exit 2). */
class CompressCommandTest {
    @TempDir
    Path dir;

    private int run(ByteArrayOutputStream err, String... args) {
        return Main.execute(args, new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void prunesAModelDirectoryAndWritesItsProvenance() throws Exception {
        Path model = dir.resolve("parent");
        ModelConfig c = ModelConfig.llama(64, 16, 3, 4, 2, 20, 32);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel parent = DecoderModel.randomInit(c, 1, m, DataType.FLOAT32)) {
            HfModels.save(parent, new DirectoryModelSink(model));
        }
        Path conf = dir.resolve("c.yaml");
        Files.writeString(conf, "model: " + model + "\noutput: " + dir.resolve("out") + "\nprune:\n  saliency: weight\n"
                + "  keep_fraction: 0.25\n  exempt_layers: [last]\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(run(err, "compress", "--conf", conf.toString())).as(err.toString()).isZero();
        var d = DerivedModel.readDerivation(dir.resolve("out"));
        assertThat(d.method()).isEqualTo("ffn_prune");
        assertThat(d.keptNeurons(0)).hasSize(5);
        assertThat(d.isPruned(2)).isFalse();
        assertThat(dir.resolve("out/compress.json")).isRegularFile();
    }

    @Test
    void mistakesGiveOneErrorLineNamingTheKeyOrPath() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(run(err, "compress", "--set", "prune.saliancy=weight")).isEqualTo(2);
        assertThat(err.toString()).startsWith("error: ").contains("prune.saliancy").contains("saliency");

        err.reset();
        assertThat(run(err, "compress", "--set", "model=" + dir.resolve("none"), "--set", "output=" + dir.resolve("o"),
                "--set", "prune.saliency=weight")).isEqualTo(2);
        assertThat(err.toString()).startsWith("error: model:").contains("none");

        err.reset();
        assertThat(run(err, "compress", "--set", "prune.saliency=sometimes")).isEqualTo(2);
        assertThat(err.toString()).contains("prune.saliency").contains("weight");

        err.reset();
        assertThat(run(err, "compress", "--conf", dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("missing.yaml");

        err.reset();
        assertThat(run(err, "compress", "--set", "model=m", "--set", "output=o")).isEqualTo(2);
        assertThat(err.toString()).contains("Nothing to do");
    }
}
