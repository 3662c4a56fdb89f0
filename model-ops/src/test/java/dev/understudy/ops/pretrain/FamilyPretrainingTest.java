package dev.understudy.ops.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.testing.TextCorpora;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A two-member family end to end: outputs, manifest, caching, --force and --resume. */
class FamilyPretrainingTest {
    static final List<String> DOCS = TextCorpora.grammar(80, 5);

    static FamilySpec spec(double lr) {
        PretrainSettings s = PretrainSettings.of(16L * 4 * 32, 4, 32, lr).withWarmup(2).withEval(8, 256, 0)
                .withCheckpointEvery(5);
        return new FamilySpec("test", 320, 2, 0, 0.1, s,
                List.of(MemberSpec.of("a", 16, 1, 2, 1, 32), MemberSpec.of("b", 32, 2, 4, 2, 64)), 17);
    }

    static final class Console {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final FamilyPretraining.Options options =
                new FamilyPretraining.Options(false, false, new PrintStream(bytes, true, StandardCharsets.UTF_8), false);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void buildsCachesForcesAndResumes(@TempDir Path out) throws IOException {
        // Build.
        Console c1 = new Console();
        FamilyPretraining.Outcome first = FamilyPretraining.run(spec(1e-2), DOCS, List.of("generated"), out, c1.options);
        ModelFamily f = first.family();
        assertThat(first.cached()).isFalse();
        assertThat(f.memberNames()).containsExactly("a", "b");
        assertThat(f.vocabSize()).isEqualTo(320);
        assertThat(f.tokenBudget()).isEqualTo(16L * 4 * 32);
        assertThat(f.corpus().documents()).isEqualTo(80);
        assertThat(f.corpus().sha256()).isEqualTo(Digests.documents(DOCS));
        assertThat(f.corpus().sources()).containsExactly("generated");
        assertThat(ModelFamily.load(out).withSource(null)).isEqualTo(f.withSource(null));
        ModelFamily.load(out).checkSharedVocabulary().verify(new DirectoryModelSource(out));
        assertThat(Files.exists(out.resolve("checkpoints"))).isFalse(); // removed once the members are done
        for (ModelFamily.Member m : f.members()) {
            assertThat(m.steps()).isEqualTo(16);
            assertThat(m.tokens()).isEqualTo(16L * 4 * 32);
            assertThat(m.tokensPerSecond()).isPositive();
            assertThat(m.heldoutPerplexity()).isLessThan(320 / 2.0); // learnt something (random init: about 320)
            Path dir = out.resolve(m.dir());
            assertThat(dir.resolve("generation_config.json")).exists();
            try (NDManager nd = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = HfModels.load(dir, nd, DataType.FLOAT32);
                    Tokenizer tok = Tokenizer.load(dir)) {
                assertThat(model.parameterCount()).isEqualTo(m.parameters());
                assertThat(model.config().vocabSize()).isEqualTo(tok.vocabSize()).isEqualTo(320);
                assertThat(model.config().maxPositions()).isEqualTo(32);
                assertThat(model.config().tieWordEmbeddings()).isTrue();
                assertThat(tok.eosId()).hasValue(model.config().eosTokenId());
            }
        }
        assertThat(c1.text()).contains("a step 8: held-out loss", "b step 16: held-out loss", "final", "tokens/s");

        // Same spec and corpus: cached, nothing rewritten.
        FileTime written = Files.getLastModifiedTime(out.resolve("b/model.safetensors"));
        Console c2 = new Console();
        FamilyPretraining.Outcome second = FamilyPretraining.run(spec(1e-2), DOCS, List.of("generated"), out, c2.options);
        assertThat(second.cached()).isTrue();
        assertThat(c2.text()).startsWith("cached: ").contains("--force");
        assertThat(Files.getLastModifiedTime(out.resolve("b/model.safetensors"))).isEqualTo(written);
        assertThat(second.family().member("b").heldoutPerplexity()).isEqualTo(f.member("b").heldoutPerplexity());

        // --force retrains, deterministically.
        Console c3 = new Console();
        FamilyPretraining.Outcome forced = FamilyPretraining.run(spec(1e-2), DOCS, List.of("generated"), out,
                c3.options.withForce(true));
        assertThat(forced.cached()).isFalse();
        assertThat(forced.family().member("b").heldoutPerplexity()).isEqualTo(f.member("b").heldoutPerplexity());

        // Another corpus or spec is not a cache hit.
        Console c4 = new Console();
        List<String> moreDocs = TextCorpora.grammar(81, 5);
        assertThat(FamilyPretraining.run(spec(1e-2), moreDocs, List.of("generated"), out, c4.options).cached()).isFalse();
        assertThat(c4.text()).contains("different config or corpus");
        Console c5 = new Console();
        assertThat(FamilyPretraining.run(spec(5e-3), moreDocs, List.of("generated"), out, c5.options).cached()).isFalse();

        // Interrupted after member a (manifest and b gone): --resume keeps a and retrains b only.
        FamilyPretraining.deleteRecursively(out.resolve("b"));
        Files.delete(out.resolve(ModelFamily.FILE));
        FileTime aWritten = Files.getLastModifiedTime(out.resolve("a/model.safetensors"));
        Console c6 = new Console();
        FamilyPretraining.Outcome resumed = FamilyPretraining.run(spec(5e-3), moreDocs, List.of("generated"), out,
                c6.options.withResume(true));
        assertThat(c6.text()).contains("a: already trained by this build").contains("b: ");
        assertThat(Files.getLastModifiedTime(out.resolve("a/model.safetensors"))).isEqualTo(aWritten);
        assertThat(resumed.family().memberNames()).containsExactly("a", "b");
        ModelFamily.load(out).verify(new DirectoryModelSource(out));
    }
}
