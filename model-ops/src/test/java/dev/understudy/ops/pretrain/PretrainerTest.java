package dev.understudy.ops.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.testing.NDLeakCheck;
import dev.understudy.ops.testing.TextCorpora;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
    static NDManager root;
    static TokenizerSpec tokenizer;
    static PretrainData data;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
        List<String> docs = TextCorpora.grammar(120, 11);
        PretrainData.Split split = PretrainData.split(docs, 0.1, 3);
        tokenizer = ByteLevelBpeTrainer.train(split.train(), 384, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        data = PretrainData.tokenize(split, tokenizer.encoder(), ByteLevelBpeTrainer.BOS_ID, ByteLevelBpeTrainer.EOS_ID);
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    static ModelConfig config(int seqLen) {
        return MemberSpec.of("t", 32, 2, 4, 2, 64).modelConfig(tokenizer.vocabSize(), PretrainSettings.of(1, 1, seqLen, 1))
                .withSpecialTokens(ByteLevelBpeTrainer.BOS_ID, ByteLevelBpeTrainer.EOS_ID, ByteLevelBpeTrainer.PAD_ID);
    }

    @Test
    void lossAndHeldOutPerplexityFall() {
        int seq = 32;
        PretrainSettings s = PretrainSettings.of(40L * 8 * seq, 8, seq, 1e-2).withWarmup(4);
        List<Example> heldout = data.heldoutBlocks(seq, 0, 1);
        List<Double> losses = new ArrayList<>();
        NDLeakCheck.assertNoLeak(root, () -> {
            try (Pretrainer p = Pretrainer.create(config(seq), s, seq, s.lr(), s.lr(), 1, null, "k", false, root)) {
                assertThat(p.totalSteps()).isEqualTo(40);
                double initial = p.evaluate(heldout, 0).perplexity();
                Pretrainer.Result r = p.run(data.trainBlocks(seq), List.of(), heldout, new Pretrainer.Listener() {
                    @Override
                    public void onStep(long step, long total, double loss, double lr, double tps) {
                        losses.add(loss);
                    }
                });
                // Random init predicts about uniformly over the vocabulary.
                assertThat(initial).isBetween(tokenizer.vocabSize() * 0.7, tokenizer.vocabSize() * 1.4);
                assertThat(r.steps()).isEqualTo(40);
                assertThat(r.tokens()).isEqualTo(40L * 8 * seq);
                assertThat(r.tokensPerSecond()).isPositive();
                assertThat(losses).hasSize(40);
                assertThat(losses.get(39)).isLessThan(losses.get(0) - 2.0);
                // The toy grammar is very predictable: far below the initial perplexity.
                assertThat(r.finalEval().perplexity()).isLessThan(initial / 8);
                assertThat(r.finalEval().loss()).isCloseTo(Math.log(r.finalEval().perplexity()), within(1e-12));
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void resumingFromACheckpointIsBitIdenticalToTrainingStraightThrough(@TempDir Path tmp) throws IOException {
        int seq = 16;
        int n = 5;
        PretrainSettings s = PretrainSettings.of(2L * n * 4 * seq, 4, seq, 5e-3).withWarmup(3).withCheckpointEvery(n)
                .withEval(3, 64, 0);
        List<Example> train = data.trainBlocks(seq);
        List<Example> periodic = data.heldoutBlocks(seq, s.evalTokens(), 1);
        List<Example> heldout = data.heldoutBlocks(seq, 0, 1);

        // A: 2N steps in one go.
        Map<String, HostTensor> straight;
        List<HostTensor> straightMoments;
        Pretrainer.Result a;
        try (Pretrainer p = Pretrainer.create(config(seq), s, seq, s.lr(), 2 * s.lr(), 9, tmp.resolve("a.safetensors"), "run", false,
                root)) {
            a = p.run(train, periodic, heldout, null);
            straight = p.model().exportTensors();
            straightMoments = optimizerState(tmp.resolve("a.safetensors"));
        }

        // B: crash right after the checkpoint at step N ...
        Path ckpt = tmp.resolve("b.safetensors");
        try (Pretrainer p = Pretrainer.create(config(seq), s, seq, s.lr(), 2 * s.lr(), 9, ckpt, "run", true, root)) {
            assertThat(p.step()).isZero(); // resume without a checkpoint starts fresh
            assertThatThrownBy(() -> p.run(train, periodic, heldout, new Pretrainer.Listener() {
                @Override
                public void onCheckpoint(long step, Path file) {
                    throw new IllegalStateException("simulated crash at step " + step);
                }
            })).hasMessage("simulated crash at step " + n);
        }
        // ... and resume for the remaining N.
        Pretrainer.Result b;
        try (Pretrainer p = Pretrainer.create(config(seq), s, seq, s.lr(), 2 * s.lr(), 9, ckpt, "run", true, root)) {
            assertThat(p.step()).isEqualTo(n);
            b = p.run(train, periodic, heldout, null);
            Map<String, HostTensor> resumed = p.model().exportTensors();
            assertThat(resumed.keySet()).containsExactlyElementsOf(straight.keySet());
            for (String name : straight.keySet()) {
                assertThat(resumed.get(name).values()).as(name).containsExactly(straight.get(name).values());
            }
        }
        assertThat(b.resumedFrom()).isEqualTo(n);
        assertThat(b.steps()).isEqualTo(a.steps()).isEqualTo(2L * n);
        assertThat(b.tokens()).isEqualTo(a.tokens());
        assertThat(b.lastLoss()).isEqualTo(a.lastLoss());
        assertThat(b.finalEval()).isEqualTo(a.finalEval());
        List<HostTensor> resumedMoments = optimizerState(ckpt);
        for (int i = 0; i < straightMoments.size(); i++) {
            assertThat(resumedMoments.get(i).values()).containsExactly(straightMoments.get(i).values());
        }
        // The resumed run wrote its own final checkpoint.
        assertThat(PretrainCheckpoint.read(ckpt).state().step()).isEqualTo(2L * n);
    }

    @Test
    void refusesACheckpointOfAnotherRun(@TempDir Path tmp) throws IOException {
        int seq = 16;
        PretrainSettings s = PretrainSettings.of(2L * 4 * seq, 4, seq, 5e-3).withCheckpointEvery(1);
        Path ckpt = tmp.resolve("c.safetensors");
        try (Pretrainer p = Pretrainer.create(config(seq), s, seq, s.lr(), s.lr(), 1, ckpt, "config-A", false, root)) {
            p.run(data.trainBlocks(seq), List.of(), data.heldoutBlocks(seq, 64, 1), null);
        }
        assertThat(Files.exists(ckpt)).isTrue();
        assertThatThrownBy(() -> Pretrainer.create(config(seq), s, seq, s.lr(), s.lr(), 1, ckpt, "config-B", true, root))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(ckpt.toString())
                .hasMessageContaining("different run")
                .hasMessageContaining("without --resume");
        Files.writeString(ckpt, "not a checkpoint");
        assertThatThrownBy(() -> Pretrainer.create(config(seq), s, seq, s.lr(), s.lr(), 1, ckpt, "config-A", true, root))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(ckpt.toString());
    }

    private static List<HostTensor> optimizerState(Path checkpoint) throws IOException {
        return PretrainCheckpoint.read(checkpoint).optimizer();
    }
}
