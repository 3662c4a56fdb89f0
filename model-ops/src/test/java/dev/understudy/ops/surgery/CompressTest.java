package dev.understudy.ops.surgery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Compress} end to end on a tiny random LLaMA and a few KB of public-domain prose. */
class CompressTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path text;

    @BeforeAll
    static void makeParent() throws Exception {
        model = dir.resolve("family/large");
        Files.createDirectories(model);
        Path tok = dir.resolve("family/tokenizer");
        Files.createDirectories(tok);
        Path src = Path.of("src/test/resources/oracle/tokenizers/understudy-bytelevel-bpe");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(src.resolve(f), tok.resolve(f));
        }
        ModelConfig c = ModelConfig.llama(400, 16, 4, 4, 2, 24, 32);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel parent = DecoderModel.randomInit(c, 3, m, DataType.FLOAT32, 0.3)) {
            HfModels.save(parent, new DirectoryModelSink(model));
        }
        text = dir.resolve("public.txt");
        Files.copy(Path.of("src/test/resources/tokenizer/english.txt"), text);
    }

    static CompressSpec spec(String out, CompressSpec.Drop drop, CompressSpec.Prune prune, int steps) {
        return new CompressSpec(model.toString(), "", dir.resolve(out).toString(), false, drop, prune,
                new CompressSpec.Data(text.toString(), 16, 0.2, 0), new CompressSpec.Distill(steps, 1e-2, 4, 1, 1, "ffn"),
                7);
    }

    static final CompressSpec.Drop NO_DROP = new CompressSpec.Drop(CompressSpec.DropMethod.NONE, 0, 1, 1, List.of());
    static final CompressSpec.Prune NO_PRUNE = new CompressSpec.Prune(CompressSpec.PruneSaliency.NONE, 1, List.of());

    @Test
    void pruneAndDistilWritesAModelWithProvenanceAndFigures() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CompressSpec s = spec("pruned", NO_DROP,
                new CompressSpec.Prune(CompressSpec.PruneSaliency.WEIGHT, 0.5, List.of("first", "last")), 30);
        Compress.Result r = Compress.run(s, new PrintStream(log, true, StandardCharsets.UTF_8));
        Path out = dir.resolve("pruned");
        assertThat(r.derivation().parentFfnWidths()).containsExactly(24, 24, 24, 24);
        assertThat(SubModels.widths(HfModels.loadConfig(new dev.understudy.ops.io.DirectoryModelSource(out))))
                .containsExactly(24, 12, 12, 24);
        assertThat(DerivedModel.readDerivation(out)).isEqualTo(r.derivation());
        assertThat(r.derivation().keptNeurons(1)).hasSize(12);
        assertThat(r.parameterFraction()).isLessThan(1).isGreaterThan(0.5);
        assertThat(r.flopsFraction()).isLessThan(1);
        // the derived model without distillation is worse than the parent; distillation improves it
        assertThat(r.undistilledPerplexity()).isGreaterThan(r.parentPerplexity());
        assertThat(r.distilledPerplexity()).isLessThan(r.undistilledPerplexity());
        JsonObject figures = JsonParser.parseString(Files.readString(out.resolve("compress.json"))).getAsJsonObject();
        assertThat(figures.get("derived_perplexity_with_distillation").getAsDouble()).isEqualTo(r.distilledPerplexity());
        assertThat(out.resolve("tokenizer.json")).isRegularFile();
        // the written model is the distilled one: reloading gives the reported perplexity
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel back = HfModels.load(out, m, DataType.FLOAT32)) {
            assertThat(back.config().intermediateSize(1)).isEqualTo(12);
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("distill step 30/30").contains("held-out perplexity");
        // a second run refuses to overwrite unless asked
        assertThatThrownBy(() -> Compress.run(s, new PrintStream(new ByteArrayOutputStream())))
                .hasMessageContaining("already holds a model").hasMessageContaining("overwrite=true");
    }

    @Test
    void blockInfluenceDropKeepsExemptLayersAndComposesWithPruning() throws Exception {
        CompressSpec s = spec("dropped",
                new CompressSpec.Drop(CompressSpec.DropMethod.BI, 2, 1, 1, List.of("first")),
                new CompressSpec.Prune(CompressSpec.PruneSaliency.ACTIVATION, 0.5, List.of()), 0);
        Compress.Result r = Compress.run(s, new PrintStream(new ByteArrayOutputStream()));
        assertThat(r.derivation().layerMap()).hasSize(2).startsWith(0);
        assertThat(r.derivation().parentLayers()).isEqualTo(4);
        assertThat(r.derivation().keptNeurons(0)).hasSize(12);
        assertThat(r.derivation().keptNeurons(1)).hasSize(12);
        assertThat(r.distilledPerplexity()).isNaN();
        assertThat(Files.exists(dir.resolve("dropped/compress.json"))).isTrue();
    }

    @Test
    void mistakesNameTheKeyOrPath() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        CompressSpec.Prune weight = new CompressSpec.Prune(CompressSpec.PruneSaliency.WEIGHT, 0.5, List.of());
        assertThatThrownBy(() -> new CompressSpec(model.toString(), "", "x", false, NO_DROP, NO_PRUNE,
                new CompressSpec.Data("", 16, 0.1, 0), new CompressSpec.Distill(0, 1e-3, 4, 1, 1, "ffn"), 1))
                .hasMessageContaining("Nothing to do");
        assertThatThrownBy(() -> new CompressSpec(model.toString(), "", "x", false, NO_DROP, weight,
                new CompressSpec.Data("", 16, 0.1, 0), new CompressSpec.Distill(5, 1e-3, 4, 1, 1, "ffn"), 1))
                .hasMessageContaining("data.text");
        assertThatThrownBy(() -> Compress.run(new CompressSpec(dir.resolve("nope").toString(), "",
                dir.resolve("o1").toString(), false, NO_DROP, weight, new CompressSpec.Data("", 16, 0.1, 0),
                new CompressSpec.Distill(0, 1e-3, 4, 1, 1, "ffn"), 1), quiet))
                .hasMessageContaining("model:").hasMessageContaining("nope");
        assertThatThrownBy(() -> Compress.run(new CompressSpec(model.toString(), "", dir.resolve("o2").toString(),
                false, NO_DROP, weight, new CompressSpec.Data(dir.resolve("missing.txt").toString(), 16, 0.1, 0),
                new CompressSpec.Distill(0, 1e-3, 4, 1, 1, "ffn"), 1), quiet))
                .hasMessageContaining("data.text").hasMessageContaining("missing.txt");
        Path foreign = dir.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> Compress.run(new CompressSpec(model.toString(), "", foreign.toString(), true, NO_DROP,
                weight, new CompressSpec.Data("", 16, 0.1, 0), new CompressSpec.Distill(0, 1e-3, 4, 1, 1, "ffn"), 1),
                quiet)).hasMessageContaining("notes.txt");
        assertThat(foreign.resolve("notes.txt")).exists();
        assertThatThrownBy(() -> new CompressSpec.Prune(CompressSpec.PruneSaliency.WEIGHT, 0, List.of()))
                .hasMessageContaining("prune.keep_fraction");
        assertThatThrownBy(() -> Compress.run(new CompressSpec(model.toString(), "", dir.resolve("o3").toString(), false,
                NO_DROP, new CompressSpec.Prune(CompressSpec.PruneSaliency.WEIGHT, 0.5, List.of("middle")),
                new CompressSpec.Data("", 16, 0.1, 0), new CompressSpec.Distill(0, 1e-3, 4, 1, 1, "ffn"), 1), quiet))
                .hasMessageContaining("prune.exempt_layers").hasMessageContaining("middle");
    }
}
