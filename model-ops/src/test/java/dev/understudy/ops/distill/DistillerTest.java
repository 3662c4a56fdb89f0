package dev.understudy.ops.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.testing.NDLeakCheck;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.TrainConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * FedPT's server-side distillation on a tiny random pair: a GPT-2 "large" model (64 ids) as the
 * black box, a LLaMA "small" model (72 ids) as student, with a random LoRA as the aggregated
 * adapter.
 */
class DistillerTest {
    static final ModelConfig LARGE = ModelConfig.gpt2(64, 48, 2, 4, 64).withDropout(0, 0, 0);
    static final ModelConfig SMALL = ModelConfig.llama(72, 32, 2, 4, 2, 48, 64);
    static final LoraConfig LORA = new LoraConfig(4, 8, 0.0,
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"));
    static NDManager root;
    static DecoderModel large;
    static DecoderModel small;
    static List<Example> data;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
        large = DecoderModel.randomInit(LARGE, 31, root, DataType.FLOAT32, 0.3);
        small = DecoderModel.randomInit(SMALL, 32, root, DataType.FLOAT32, 0.3);
        SplittableRandom r = new SplittableRandom(4);
        data = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int[] ids = new int[8 + r.nextInt(5)];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = 3 + r.nextInt(61);
            }
            data.add(new Example(ids, i % 2 == 0 ? 3 : 0)); // prompt + response, and plain text
        }
    }

    @AfterAll
    static void tearDown() {
        small.close();
        large.close();
        root.close();
    }

    /** The "aggregated" adapter: random A (LoRA init) and random B, so the expert differs from the base. */
    static LoraAdapter aggregated(NDManager m) {
        LoraAdapter a = LoraAdapter.create(small, LORA, 7, m);
        SplittableRandom r = new SplittableRandom(7);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        for (var e : a.exportTensors().entrySet()) {
            float[] v = e.getValue().values().clone();
            if (e.getKey().endsWith("lora_B")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
            t.put(e.getKey(), new HostTensor(e.getValue().shape(), v));
        }
        a.load(t);
        return a;
    }

    static ModelLogitSource largeSource() {
        return new ModelLogitSource(large, null, 0);
    }

    static List<int[]> ids(List<Example> ex) {
        return ex.stream().map(Example::ids).toList();
    }

    static void assertSameTensors(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String k : a.keySet()) {
            assertThat(b.get(k).values()).as(k).isEqualTo(a.get(k).values());
        }
    }

    @Test
    void distillationReducesTheKlAndTrainsOnlyTheAdapter() {
        Map<String, HostTensor> smallBefore = small.exportTensors();
        Map<String, HostTensor> largeBefore = large.exportTensors();
        DistillConfig cfg = DistillConfig.simple(1e-2, 8, 12, 3).withTemperature(2.0).withEvalExamples(16);
        try (NDManager m = root.newSubManager();
                LoraAdapter student = aggregated(m);
                Distiller d = new Distiller(largeSource(), small, student, cfg, 0, m)) {
            Map<String, HostTensor> adapterBefore = student.exportTensors();
            float[] teacherBefore = d.teacher().sequenceLogits(ids(data), m).toFloatArray();
            // the roles are fixed: expert = base + a frozen copy of the student, anti-expert = bare base
            ModelLogitSource expert = (ModelLogitSource) d.teacher().expert();
            ModelLogitSource anti = (ModelLogitSource) d.teacher().antiExpert();
            assertThat(anti.model()).isSameAs(small);
            assertThat(anti.adapter()).isNull();
            assertThat(expert.model()).isSameAs(small);
            assertThat(expert.adapter()).isNotNull().isNotSameAs(student);

            // per-micro-batch teacher logits and temporaries are all released
            Distiller.DistillResult r = NDLeakCheck.assertNoLeak(small.manager(),
                    () -> NDLeakCheck.assertNoLeak(large.manager(), () -> NDLeakCheck.assertNoLeak(m, () -> d.distill(data))));

            System.out.printf("distill KL %.4f -> %.4f, per-step KL %s%n", r.klBefore(), r.klAfter(),
                    java.util.Arrays.toString(r.kl()));
            assertThat(r.losses()).hasSize(12);
            assertThat(r.klAfter()).isLessThan(0.7 * r.klBefore());
            assertThat(r.kl()[11]).isLessThan(r.kl()[0]);
            assertThat(r.losses()[0]).isCloseTo(r.kl()[0], within(1e-5)); // λ = 0: the loss is the KL term
            assertThat(r.ce()[0]).isNaN();
            assertThat(r.nextStep()).isEqualTo(12);
            // only the adapter moved; the teacher (large, base, expert snapshot) did not
            assertSameTensors(smallBefore, small.exportTensors());
            assertSameTensors(largeBefore, large.exportTensors());
            assertThat(d.teacher().sequenceLogits(ids(data), m).toFloatArray()).containsExactly(teacherBefore);
            Map<String, HostTensor> adapterAfter = student.exportTensors();
            long changed = adapterBefore.keySet().stream()
                    .filter(k -> !java.util.Arrays.equals(adapterBefore.get(k).values(), adapterAfter.get(k).values()))
                    .count();
            assertThat(changed).isEqualTo(adapterBefore.size());
            assertThat(d.meanKl(data)).isCloseTo(r.klAfter(), within(1e-6));
        }
    }

    static Distiller.DistillResult run(DistillConfig cfg, LogitSource largeSrc, float[][] adapterOut) {
        try (NDManager m = root.newSubManager();
                LoraAdapter student = aggregated(m);
                Distiller d = new Distiller(largeSrc, small, student, cfg, 0, m)) {
            Distiller.DistillResult r = d.distill(data);
            if (adapterOut != null) {
                adapterOut[0] = flatten(student);
            }
            return r;
        }
    }

    static float[] flatten(LoraAdapter a) {
        List<float[]> parts = a.exportTensors().values().stream().map(HostTensor::values).toList();
        float[] out = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void anExplicitExpertIsTheTeachersExpertAndTheStudentStartsFromItsOwnAdapter() {
        DistillConfig cfg = DistillConfig.simple(1e-2, 8, 3, 3).withEvalExamples(0);
        try (NDManager m = root.newSubManager();
                LoraAdapter student = LoraAdapter.create(small, LORA, 9, m); // B = 0: the small base itself
                LoraAdapter expert = aggregated(m)) {
            float[] startStudent = flatten(student);
            float[] want = ProxyLogitSource.of(largeSource(), small, expert, cfg.alpha(), 0)
                    .sequenceLogits(ids(data), m).toFloatArray();
            try (Distiller d = new Distiller(largeSource(), small, student, expert, cfg, 0, m)) {
                assertThat(flatten(student)).containsExactly(startStudent);
                // the teacher is a snapshot: changing the caller's expert afterwards does not change it
                expert.load(LoraAdapter.create(small, LORA, 9, m).exportTensors());
                assertThat(d.teacher().sequenceLogits(ids(data), m).toFloatArray()).containsExactly(want);
                Distiller.DistillResult r = d.distill(data);
                assertThat(r.kl()[0]).isGreaterThan(0.0);
                assertThat(flatten(student)).isNotEqualTo(startStudent);
            }
            // the two-argument form is the snapshot of the student: with the student's B = 0 the teacher
            // is the large model itself (expert = anti-expert)
            try (LoraAdapter fresh = LoraAdapter.create(small, LORA, 9, m);
                    Distiller d = new Distiller(largeSource(), small, fresh, cfg, 0, m)) {
                assertThat(d.teacher().sequenceLogits(ids(data), m).toFloatArray())
                        .containsExactly(largeSource().sequenceLogits(ids(data), m).toFloatArray(), within(1e-5f));
            }
        }
    }

    @Test
    void distillationIsDeterministicBySeed() {
        // batch 4 of 16 examples with dropout: order and masks both come from the seed
        DistillConfig cfg = new DistillConfig(1.5, 1.0, 0.3, 4, 0,
                TrainConfig.simple(5e-3, 4, 11).withClipping(1.0));
        float[][] a1 = new float[1][];
        float[][] a2 = new float[1][];
        Distiller.DistillResult r1 = run(cfg, largeSource(), a1);
        Distiller.DistillResult r2 = run(cfg, largeSource(), a2);
        assertThat(r2.losses()).containsExactly(r1.losses());
        assertThat(a2[0]).containsExactly(a1[0]);
        DistillConfig other = new DistillConfig(1.5, 1.0, 0.3, 4, 0, TrainConfig.simple(5e-3, 4, 12).withClipping(1.0));
        assertThat(run(other, largeSource(), null).losses()).isNotEqualTo(r1.losses());
    }

    @Test
    void crossEntropyIsMixedWithWeightLambda() {
        DistillConfig base = DistillConfig.simple(1e-2, 8, 1, 5).withTemperature(2.0).withEvalExamples(0);
        double kl = run(base.withCeWeight(0), largeSource(), null).losses()[0];
        double ce = run(base.withCeWeight(1), largeSource(), null).losses()[0];
        Distiller.DistillResult mixed = run(base.withCeWeight(0.25), largeSource(), null);
        // step 0 sees the same batch before any update: (1 − λ) KL + λ CE
        assertThat(mixed.losses()[0]).isCloseTo(0.75 * kl + 0.25 * ce, within(1e-5));
        assertThat(mixed.kl()[0]).isCloseTo(kl, within(1e-5));
        assertThat(mixed.ce()[0]).isCloseTo(ce, within(1e-5));
        assertThat(ce).isGreaterThan(3.0); // ≈ ln 72 for a random small model
    }

    @Test
    void aBlackBoxLargeModelGivesTheSameDistillation() {
        DistillConfig cfg = DistillConfig.simple(1e-2, 8, 1, 5).withEvalExamples(4);
        LogitSource box = new LogitSource() { // LogitSource only: teacher forcing falls back to stepping
            final LogitSource inner = largeSource();

            @Override
            public int vocabSize() {
                return inner.vocabSize();
            }

            @Override
            public DecodingSession start(List<int[]> prompts) {
                return inner.start(prompts);
            }
        };
        Distiller.DistillResult direct = run(cfg, largeSource(), null);
        Distiller.DistillResult stepped = run(cfg, box, null);
        assertThat(stepped.klBefore()).isCloseTo(direct.klBefore(), within(1e-5));
        assertThat(stepped.losses()[0]).isCloseTo(direct.losses()[0], within(1e-5));
    }

    @Test
    void invalidSettingsNameTheKey() {
        TrainConfig t = TrainConfig.simple(1e-3, 4, 1);
        assertThatThrownBy(() -> new DistillConfig(-1, 1, 0, 10, 0, t)).hasMessageContaining("distill alpha to -1.0");
        assertThatThrownBy(() -> new DistillConfig(1, 0, 0, 10, 0, t)).hasMessageContaining("distill temperature to 0.0");
        assertThatThrownBy(() -> new DistillConfig(1, 1, 1.5, 10, 0, t)).hasMessageContaining("distill ce_weight to 1.5");
        assertThatThrownBy(() -> new DistillConfig(1, 1, 0, 0, 0, t)).hasMessageContaining("distill steps to 0");
        try (NDManager m = root.newSubManager(); LoraAdapter student = aggregated(m);
                Distiller d = new Distiller(largeSource(), small, student, DistillConfig.simple(1e-3, 4, 1, 1), 0, m)) {
            assertThatThrownBy(() -> d.distill(List.of())).hasMessageContaining("empty distillation set");
        }
    }
}
