package dev.understudy.ops.distill;

import static dev.understudy.ops.distill.RepresentationDistillerTest.data;
import static dev.understudy.ops.distill.RepresentationDistillerTest.nmse;
import static dev.understudy.ops.distill.RepresentationDistillerTest.train;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.DerivedModel;
import dev.understudy.ops.surgery.OffsiteEmulator;
import dev.understudy.ops.train.DenseTrainables;
import dev.understudy.ops.train.Example;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * FedBiOT's server alignment (methods.md §4(b)): the emulator's middle re-aligned with the current
 * adapter frozen in both models. The loss against a hand-computed case and against an independent
 * computation from the two models' blocks; the adapter and the adapter layers stay bit-identical.
 */
class EmulatorAlignmentTest {
    static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    @Test
    void nmseOfAHandComputedCase() {
        // M(h) = [1, 2; 0, 2], E(h) = [1, 0; 1, 2]: mean((M−E)²) = (0 + 4 + 1 + 0)/4, mean(M²) = (1 + 4 + 0 + 4)/4
        NDArray t = m.create(new double[] {1, 2, 0, 2}, new Shape(1, 2, 2));
        NDArray s = m.create(new double[] {1, 0, 1, 2}, new Shape(1, 2, 2));
        assertThat(Nmse.loss(t, s, null).toType(DataType.FLOAT64, false).getDouble()).isCloseTo(5.0 / 9.0, within(1e-15));
    }

    @Test
    void alignmentLossIsTheNmseOfTheMiddlesWithTheAdapterFrozen() {
        ModelConfig c = ModelConfig.llama(24, 16, 5, 4, 2, 24, 16);
        OffsiteEmulator e = new OffsiteEmulator(1, 2, 1); // middle [1, 4) → keep 2: parent 1, 3
        try (NDManager sub = m.newSubManager();
                DecoderModel teacher = DecoderModel.randomInit(c, 11, sub, DataType.FLOAT64, 0.3)) {
            DerivedModel d = e.build(c, teacher.exportTensors());
            assertThat(d.derivation().layerMap()).containsExactly(0, 1, 3, 4);
            LoraConfig emuLora = e.adapterLora(d.config(), new LoraConfig(2, 4, 0, List.of("q_proj", "v_proj")));
            try (DecoderModel student = d.toModel(sub, DataType.FLOAT64);
                    LoraAdapter sa = LoraAdapter.create(student, emuLora, 3, sub);
                    LoraAdapter ta = LoraAdapter.create(teacher, e.parentLora(d.derivation(), c, emuLora), 3, sub)) {
                Map<String, HostTensor> factors = nonZero(sa.exportTensors());
                sa.load(factors);
                ta.load(e.plugIn(d.derivation(), c, emuLora, factors));
                List<Example> ex = data(4, 8, c.vocabSize(), 12);
                // h: output of the bottom adapter layer (with its LoRA); the same in both models
                NDArray h = student.outputHiddenStates(ids(ex), null, sa).get(1);
                NDArray hFull = teacher.outputHiddenStates(ids(ex), null, ta).get(1);
                assertThat(nmse(h, hFull)).isZero();
                double want = nmse(teacher.runBlocks(1, 4, h, null, ta, null, null),
                        student.runBlocks(1, 3, h, null, sa, null, null));
                assertThat(want).isGreaterThan(1e-3);
                Map<String, HostTensor> before = student.exportTensors();
                try (var trainables = new DenseTrainables(student, DenseTrainables.layers(e.middlePrefixes(d.config())));
                        var dist = new RepresentationDistiller(teacher, ta, student, trainables, sa,
                                e.alignment(d.derivation()), RepDistillConfig.fedBiOt(train(2e-3, 4), 0), 0, sub)) {
                    assertThat(dist.evaluate(ex).nmse()).isCloseTo(want, within(1e-12));
                    RepresentationDistiller.Result r = dist.train(ex, 1, null);
                    assertThat(r.losses()[0]).isCloseTo(want, within(1e-9)); // no LM term, w_kl = 0
                    dist.train(ex, 20, null);
                    assertThat(dist.evaluate(ex).nmse()).isLessThan(want);
                }
                Map<String, HostTensor> after = student.exportTensors();
                for (String k : before.keySet()) {
                    boolean middle = k.startsWith("model.layers.1.") || k.startsWith("model.layers.2.");
                    if (!middle) {
                        assertThat(after.get(k).values()).as(k).containsExactly(before.get(k).values());
                    }
                }
                assertThat(after.get("model.layers.1.mlp.down_proj.weight").values())
                        .isNotEqualTo(before.get("model.layers.1.mlp.down_proj.weight").values());
                Map<String, HostTensor> adapterAfter = sa.exportTensors();
                for (String k : factors.keySet()) {
                    assertThat(adapterAfter.get(k).values()).as(k).containsExactly(factors.get(k).values());
                }
            }
        }
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

    /** The adapter with its zero-initialised B factors filled in, so it changes the hidden states. */
    private static Map<String, HostTensor> nonZero(Map<String, HostTensor> t) {
        SplittableRandom r = new SplittableRandom(8);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> x : t.entrySet()) {
            float[] v = x.getValue().values().clone();
            if (x.getKey().endsWith(".lora_B")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.3);
                }
            }
            out.put(x.getKey(), new HostTensor(x.getValue().shape(), v));
        }
        return out;
    }
}
