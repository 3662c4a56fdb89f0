package dev.understudy.ops.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.DerivedModel;
import dev.understudy.ops.surgery.SubModels;
import dev.understudy.ops.train.DenseTrainables;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Representation distillation: the loss equals ℓ_nmse computed independently from each model's
 * hidden states, an identical student has zero loss, and training the compressed FFNs (or the
 * emulator's middle) lowers the held-out loss while every frozen tensor stays bit-identical.
 */
class RepresentationDistillerTest {
    static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    static List<Example> data(int n, int len, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[len];
            for (int j = 0; j < len; j++) {
                ids[j] = r.nextInt(vocab);
            }
            out.add(Example.lm(ids));
        }
        return out;
    }

    static NDArray ids(List<Example> ex) {
        int t = ex.get(0).ids().length;
        long[] v = new long[ex.size() * t];
        for (int i = 0; i < ex.size(); i++) {
            for (int j = 0; j < t; j++) {
                v[i * t + j] = ex.get(i).ids()[j];
            }
        }
        return m.create(v, new Shape(ex.size(), t));
    }

    static TrainConfig train(double lr, int batch) {
        return new TrainConfig(LrSchedule.constant(lr), 0.0, 0.9, 0.999, 1e-8, 0.0, batch, 1, 5);
    }

    static double nmse(NDArray t, NDArray s) {
        double num = t.sub(s).square().sum().toType(DataType.FLOAT64, false).getDouble();
        double den = t.square().sum().toType(DataType.FLOAT64, false).getDouble();
        return num / den;
    }

    @Test
    void layerPairLossIsTheMeanNmseOfEachModelsOwnHiddenStates() {
        ModelConfig c = ModelConfig.llama(24, 16, 3, 4, 2, 16, 16);
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 1, sub, DataType.FLOAT64, 0.3)) {
            DerivedModel d = SubModels.pruneBySaliency(c, teacher.exportTensors(), 6, Set.of(0));
            try (DecoderModel student = d.toModel(sub, DataType.FLOAT64)) {
                Alignment.LayerPairs pairs = Alignment.fromDerivation(d.derivation(), true);
                assertThat(pairs.studentLayers()).containsExactly(1, 2);
                List<Example> ex = data(4, 9, c.vocabSize(), 2);
                // hand computation: transformers' hidden_states[2] (block 1 output) and [3] (last, after final norm)
                List<NDArray> ht = teacher.outputHiddenStates(ids(ex), null, null);
                List<NDArray> hs = student.outputHiddenStates(ids(ex), null, null);
                double want = (nmse(ht.get(2), hs.get(2)) + nmse(ht.get(3), hs.get(3))) / 2;
                assertThat(want).isGreaterThan(1e-3);
                try (var trainables = new DenseTrainables(student, name -> name.contains(".mlp."));
                        var dist = new RepresentationDistiller(teacher, null, student, trainables, null, pairs,
                                RepDistillConfig.fedPft(train(1e-3, 4)), 0, sub)) {
                    RepresentationDistiller.Evaluation e = dist.evaluate(ex);
                    assertThat(e.nmse()).isCloseTo(want, within(1e-12));
                    RepresentationDistiller.Result r = dist.train(ex, 1, null);
                    // one micro-batch = the whole set: the step's loss is exactly kd · ℓ_nmse before the update
                    assertThat(r.losses()[0]).isCloseTo(want, within(1e-12));
                    assertThat(r.nmse()[0]).isCloseTo(want, within(1e-12));
                }
            }
        }
    }

    @Test
    void anUnchangedStudentHasZeroLoss() {
        ModelConfig c = ModelConfig.gpt2(24, 16, 2, 2, 16);
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 3, sub, DataType.FLOAT64, 0.3);
                DecoderModel student = teacher.copy(sub)) {
            List<Example> ex = data(3, 7, c.vocabSize(), 4);
            try (var trainables = new DenseTrainables(student, name -> name.contains(".mlp."));
                    var dist = new RepresentationDistiller(teacher, null, student, trainables, null,
                            new Alignment.LayerPairs(new int[] {0, 1}, new int[] {0, 1}),
                            new RepDistillConfig(1, 0, 1, 2.0, train(1e-3, 3)), 0, sub)) {
                RepresentationDistiller.Evaluation e = dist.evaluate(ex);
                assertThat(e.nmse()).isCloseTo(0, within(1e-20));
                assertThat(e.kl()).isCloseTo(0, within(1e-12));
            }
        }
    }

    /**
     * FedPFT Step B on a pruned model: only the compressed layers' FFN tensors train; the held-out
     * nmse falls; embeddings, attention, norms and the exempt layer stay bit-identical.
     */
    @Test
    void distillingTheCompressedFfnsLowersHeldOutLossAndFreezesTheRest() {
        ModelConfig c = ModelConfig.llama(24, 16, 3, 4, 2, 24, 16);
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 7, sub, DataType.FLOAT32, 0.3)) {
            DerivedModel d = SubModels.pruneBySaliency(c, teacher.exportTensors(), 6, Set.of(0));
            try (DecoderModel student = d.toModel(sub, DataType.FLOAT32)) {
                Map<String, HostTensor> before = student.exportTensors();
                List<Example> trainSet = data(32, 12, c.vocabSize(), 8);
                List<Example> heldout = data(8, 12, c.vocabSize(), 9);
                var select = DenseTrainables.layers(List.of("model.layers.1.mlp.", "model.layers.2.mlp."));
                try (var trainables = new DenseTrainables(student, select);
                        var dist = new RepresentationDistiller(teacher, null, student, trainables, null,
                                Alignment.fromDerivation(d.derivation(), true),
                                new RepDistillConfig(1, 0.1, 0, 1, train(1e-2, 8)), 0, sub)) {
                    double start = dist.evaluate(heldout).nmse();
                    long[] seen = {0};
                    dist.train(trainSet, 40, (step, loss, tps) -> seen[0] = step);
                    double end = dist.evaluate(heldout).nmse();
                    assertThat(seen[0]).isEqualTo(40);
                    assertThat(end).as("held-out nmse %s -> %s", start, end).isLessThan(0.8 * start);
                }
                Map<String, HostTensor> after = student.exportTensors();
                for (String name : before.keySet()) {
                    if (select.test(name)) {
                        continue;
                    }
                    assertThat(after.get(name).values()).as(name).containsExactly(before.get(name).values());
                }
                assertThat(after.get("model.layers.1.mlp.down_proj.weight").values())
                        .isNotEqualTo(before.get("model.layers.1.mlp.down_proj.weight").values());
            }
        }
    }

    /**
     * Offsite-Tuning's emulator 1-1-1 of a 4-layer model: the loss is ℓ_nmse(M(h), E(h)) with h the
     * output of the shared bottom block, and training E lowers it.
     */
    @Test
    void emulatorDistillationMatchesTheMiddleOnTheSameInput() {
        ModelConfig c = ModelConfig.llama(24, 16, 4, 4, 2, 24, 16);
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 11, sub, DataType.FLOAT64, 0.3)) {
            DerivedModel d = SubModels.emulator(c, teacher.exportTensors(), 1, 1, 1);
            assertThat(d.derivation().layerMap()).containsExactly(0, 1, 3);
            try (DecoderModel student = d.toModel(sub, DataType.FLOAT64)) {
                Alignment.BlockRange range = Alignment.emulator(d.derivation(), 1, 1);
                assertThat(range).isEqualTo(new Alignment.BlockRange(1, 3, 1, 2));
                List<Example> ex = data(4, 8, c.vocabSize(), 12);
                NDArray h = teacher.outputHiddenStates(ids(ex), null, null).get(1); // output of block 0
                double want = nmse(teacher.runBlocks(1, 3, h, null, null, null, null),
                        student.runBlocks(1, 2, h, null, null, null, null));
                var select = DenseTrainables.layers(List.of("model.layers.1."));
                try (var trainables = new DenseTrainables(student, select);
                        var dist = new RepresentationDistiller(teacher, null, student, trainables, null, range,
                                RepDistillConfig.offsiteTuning(train(2e-3, 4)), 0, sub)) {
                    RepresentationDistiller.Evaluation e0 = dist.evaluate(ex);
                    assertThat(e0.nmse()).isCloseTo(want, within(1e-12));
                    RepresentationDistiller.Result r = dist.train(ex, 1, null);
                    assertThat(r.losses()[0]).isCloseTo(30 * want + e0.ce(), within(1e-9));
                    dist.train(ex, 30, null);
                    assertThat(dist.evaluate(ex).nmse()).isLessThan(0.8 * want);
                }
            }
        }
    }

    @Test
    void badAlignmentsNameTheProblem() {
        ModelConfig c = ModelConfig.llama(24, 16, 2, 4, 2, 16, 16);
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 1, sub, DataType.FLOAT32);
                DecoderModel student = teacher.copy(sub);
                var trainables = new DenseTrainables(student, name -> name.contains(".mlp."))) {
            assertThatThrownBy(() -> new RepresentationDistiller(teacher, null, student, trainables, null,
                    new Alignment.LayerPairs(new int[] {0}, new int[] {5}), RepDistillConfig.fedPft(train(1e-3, 2)), 0,
                    sub)).hasMessageContaining("alignment student layer 5 outside [0, 2)");
            assertThatThrownBy(() -> new RepDistillConfig(0, 0, 0, 1, train(1e-3, 2)))
                    .hasMessageContaining("all 0");
        }
    }
}
