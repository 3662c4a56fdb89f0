package dev.understudy.ops.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.testing.TinyModels;
import dev.understudy.ops.train.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InferenceTest {
    static NDManager root;
    static DecoderModel model;
    static final ModelConfig C = TinyModels.llamaGqa();

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
        model = DecoderModel.randomInit(C, 4, root, DataType.FLOAT32, 0.3);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        root.close();
    }

    static int[] seq(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = 3 + r.nextInt(C.vocabSize() - 3);
        }
        return x;
    }

    /** log p(x_t | x_<t) from a single unpadded full forward, computed in Java from the logits. */
    static double[] reference(int[] x) {
        try (NDManager m = root.newSubManager()) {
            long[] l = new long[x.length];
            for (int i = 0; i < x.length; i++) {
                l[i] = x[i];
            }
            float[] logits = model.forward(m.create(l, new Shape(1, x.length))).toFloatArray();
            int v = C.vocabSize();
            double[] out = new double[x.length - 1];
            for (int t = 0; t < x.length - 1; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < v; k++) {
                    max = Math.max(max, logits[t * v + k]);
                }
                double z = 0;
                for (int k = 0; k < v; k++) {
                    z += Math.exp(logits[t * v + k] - max);
                }
                out[t] = logits[t * v + x[t + 1]] - max - Math.log(z);
            }
            return out;
        }
    }

    @Test
    void paddedBatchScoresEqualSingleSequenceScores() {
        List<int[]> seqs = List.of(seq(5, 1), seq(11, 2), seq(8, 3));
        double[][] got = new Scorer(model, null, 3, 0).tokenLogProbs(seqs);
        for (int i = 0; i < seqs.size(); i++) {
            double[] want = reference(seqs.get(i));
            assertThat(got[i]).hasSize(want.length);
            for (int t = 0; t < want.length; t++) {
                assertThat(got[i][t]).isCloseTo(want[t], within(1e-5));
            }
        }
    }

    @Test
    void responseLikelihoodAndPerplexityAreConsistent() {
        int[] prompt = seq(4, 5);
        int[] response = seq(3, 6);
        Scorer s = new Scorer(model, null, 2, 0);
        double ll = s.responseLogLikelihood(List.of(prompt), List.of(response))[0];
        int[] joined = new int[7];
        System.arraycopy(prompt, 0, joined, 0, 4);
        System.arraycopy(response, 0, joined, 4, 3);
        double[] lp = reference(joined);
        assertThat(ll).isCloseTo(lp[3] + lp[4] + lp[5], within(1e-5));
        double ppl = s.perplexity(List.of(new Example(joined, 4)));
        assertThat(ppl).isCloseTo(Math.exp(-ll / 3), within(1e-6 * ppl));
    }

    @Test
    void labelScoringPicksTheMostLikelyLabel() {
        List<int[]> prompts = List.of(seq(6, 7), seq(3, 8), seq(9, 9));
        List<int[]> labels = List.of(new int[] {5, 6}, new int[] {7}, new int[] {9, 10, 11});
        Scorer s = new Scorer(model, null, 4, 0);
        int[] picked = s.pickLabels(prompts, labels);
        for (int i = 0; i < prompts.size(); i++) {
            double best = Double.NEGATIVE_INFINITY;
            int arg = -1;
            for (int k = 0; k < labels.size(); k++) {
                double ll = s.responseLogLikelihood(List.of(prompts.get(i)), List.of(labels.get(k)))[0];
                if (ll > best) {
                    best = ll;
                    arg = k;
                }
            }
            assertThat(picked[i]).isEqualTo(arg);
        }
    }

    @Test
    void greedyKvGenerationEqualsRecomputingTheFullForward() {
        List<int[]> prompts = List.of(seq(3, 10), seq(7, 11), seq(5, 12));
        List<int[]> got = Generator.generate(new ModelLogitSource(model, null, 0), prompts, Generator.Config.greedy(6, -1));
        for (int i = 0; i < prompts.size(); i++) {
            List<Integer> ctx = new ArrayList<>();
            for (int x : prompts.get(i)) {
                ctx.add(x);
            }
            for (int step = 0; step < 6; step++) {
                try (NDManager m = root.newSubManager()) {
                    long[] l = ctx.stream().mapToLong(Integer::longValue).toArray();
                    NDArray logits = model.forward(m.create(l, new Shape(1, l.length)));
                    int next = Sampling.argmax(logits.get("0, -1, :").toFloatArray());
                    assertThat(got.get(i)[step]).as("prompt %s step %s", i, step).isEqualTo(next);
                    ctx.add(next);
                }
            }
        }
    }

    @Test
    void samplingIsSeededAndBatchIndependent() {
        List<int[]> prompts = List.of(seq(3, 10), seq(7, 11));
        Generator.Config cfg = new Generator.Config(8, 0.9, 0.8, -1, 42);
        ModelLogitSource src = new ModelLogitSource(model, null, 0);
        List<int[]> a = Generator.generate(src, prompts, cfg);
        List<int[]> b = Generator.generate(src, prompts, cfg);
        assertThat(a.get(0)).isEqualTo(b.get(0));
        assertThat(a.get(1)).isEqualTo(b.get(1));
        List<int[]> other = Generator.generate(src, prompts, new Generator.Config(8, 0.9, 0.8, -1, 43));
        assertThat(other.get(0)).isNotEqualTo(a.get(0));
    }

    @Test
    void generationStopsAtEos() {
        int[] prompt = seq(4, 3);
        int first = Generator.generate(new ModelLogitSource(model, null, 0), List.of(prompt), Generator.Config.greedy(1, -1)).get(0)[0];
        int[] out = Generator.generate(new ModelLogitSource(model, null, 0), List.of(prompt), Generator.Config.greedy(10, first)).get(0);
        assertThat(out).containsExactly(first);
    }

    @Test
    void topPKeepsTheSmallestNucleusAndRenormalises() {
        // softmax([ln 0.5, ln 0.3, ln 0.2]) = [0.5, 0.3, 0.2]; top-p 0.7 keeps {0.5, 0.3} -> [0.625, 0.375, 0]
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        double[] p = Sampling.distribution(logits, 1.0, 0.7);
        assertThat(p[0]).isCloseTo(0.625, within(1e-6));
        assertThat(p[1]).isCloseTo(0.375, within(1e-6));
        assertThat(p[2]).isZero();
        // temperature 0.5 squares the odds: [0.25, 0.09, 0.04] / 0.38
        double[] q = Sampling.distribution(logits, 0.5, 1.0);
        assertThat(q[0]).isCloseTo(0.25 / 0.38, within(1e-6));
        assertThat(Sampling.sample(logits, 0, 1, new SplittableRandom(1))).isZero();
    }
}
