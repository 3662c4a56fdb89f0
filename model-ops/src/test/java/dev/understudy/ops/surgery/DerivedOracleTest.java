package dev.understudy.ops.surgery;

import static dev.understudy.ops.model.OracleInputs.ids;
import static dev.understudy.ops.model.OracleInputs.json;
import static dev.understudy.ops.model.OracleInputs.maskedMaxDiff;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Derived models (FFN-pruned, layer-dropped) saved by {@link DerivedModel#save} against transformers
 * 5.18: the fixtures under {@code src/test/resources/oracle-derived} were written by {@link
 * OracleDerivedWriter} and given to transformers by {@code make_derived_oracle.py} (both run by
 * {@code model-ops/src/test/python/regenerate-oracle.sh}). Committed, so no Python is needed here.
 *
 * <p>Uniform FFN widths and dropped layers are plain HF directories that transformers loads as saved
 * (strictly: no missing, unexpected or mismatched keys). Per-layer widths cannot be expressed in a
 * transformers LLaMA config; transformers refuses that directory (recorded in the manifest) and the
 * oracle checks the zero-padded equivalent instead. Tolerance 1e-4 absolute on real tokens.
 */
class DerivedOracleTest {
    static final Path DERIVED = Path.of("src/test/resources/oracle-derived");
    static final Path PARENTS = Path.of("src/test/resources/oracle");
    static final double TOL = 1e-4;
    static JsonObject manifest;

    @BeforeAll
    static void readManifest() throws IOException {
        Path file = DERIVED.resolve("manifest.json");
        assertThat(file).as("derived oracle manifest (regenerate-oracle.sh --derived-only)").isRegularFile();
        manifest = json(file);
    }

    @Test
    void manifestHasEveryRecipeAndSaysWhatTransformersDidWithIt() {
        Map<String, JsonObject> byName = new TreeMap<>();
        for (JsonElement e : manifest.getAsJsonArray("fixtures")) {
            byName.put(e.getAsJsonObject().get("name").getAsString(), e.getAsJsonObject());
        }
        assertThat(byName.keySet()).isEqualTo(OracleDerivedWriter.recipes().stream()
                .map(OracleDerivedWriter.Recipe::name).collect(Collectors.toCollection(TreeSet::new)));
        assertThat(manifest.getAsJsonObject("versions").get("transformers").getAsString()).isEqualTo("5.18.0");
        for (JsonObject fx : byName.values()) {
            String asSaved = fx.get("transformers_as_saved").getAsString();
            if (fx.has("ffn_widths")) {
                assertThat(asSaved).as(fx.get("name").getAsString()).startsWith("refused");
                assertThat(fx.get("checked_as").getAsString()).startsWith("zero-padded");
            } else {
                assertThat(asSaved).as(fx.get("name").getAsString()).startsWith("loads (strict");
                assertThat(fx.get("checked_as").getAsString()).isEqualTo("as saved");
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> understudyLogitsEqualTransformersOnTheSavedDirectory() {
        return OracleDerivedWriter.recipes().stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> {
            Path dir = DERIVED.resolve(r.name());
            var expected = SafetensorsReader.read(dir.resolve("logits.safetensors"));
            JsonObject inputs = json(dir.resolve("inputs.json"));
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
                for (String variant : List.of("right", "left")) {
                    JsonObject in = inputs.getAsJsonObject(variant);
                    float[] got = model.forward(ids(in, "input_ids", m), ids(in, "attention_mask", m),
                            ids(in, "position_ids", m), null, null, null).toFloatArray();
                    double diff = maskedMaxDiff(got, expected.tensor("logits_" + variant).toFloats(), in,
                            model.config().vocabSize());
                    System.out.printf("derived oracle %s %s-padded max |Δlogit| = %.3g%n", r.name(), variant, diff);
                    assertThat(diff).as("%s %s-padded max |Δlogit|", r.name(), variant).isLessThan(TOL);
                }
            }
        }));
    }

    /** The committed directories are what today's surgery code writes from the committed parents. */
    @TestFactory
    Stream<DynamicTest> fixturesAreWhatTodaysSurgeryWrites() {
        return OracleDerivedWriter.recipes().stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> {
            Path dir = Files.createTempDirectory("derived-oracle-");
            DerivedModel d = r.build().apply(OracleDerivedWriter.parent(PARENTS.resolve(r.parent())));
            d.save(new DirectoryModelSink(dir));
            Path fixture = DERIVED.resolve(r.name());
            assertThat(Files.readAllBytes(dir.resolve("model.safetensors")))
                    .as("%s model.safetensors (regenerate-oracle.sh --derived-only)", r.name())
                    .isEqualTo(Files.readAllBytes(fixture.resolve("model.safetensors")));
            assertThat(json(dir.resolve("config.json"))).isEqualTo(json(fixture.resolve("config.json")));
            JsonObject now = json(dir.resolve("derivation.json"));
            JsonObject then = json(fixture.resolve("derivation.json"));
            // BI scores are float sums whose last bits may depend on the thread count
            JsonArray biNow = (JsonArray) now.getAsJsonObject("params").remove("block_influence");
            JsonArray biThen = (JsonArray) then.getAsJsonObject("params").remove("block_influence");
            assertThat(now).isEqualTo(then);
            assertThat(biNow == null).isEqualTo(biThen == null);
            for (int i = 0; biNow != null && i < biNow.size(); i++) {
                assertThat(biNow.get(i).getAsDouble()).isCloseTo(biThen.get(i).getAsDouble(), within(1e-6));
            }
            if (!r.name().contains("perlayer")) {
                assertThat(json(dir.resolve("config.json")).has(ModelConfigs.LAYER_WIDTHS_KEY)).isFalse();
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }));
    }

}
