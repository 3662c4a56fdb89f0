package dev.understudy.ops.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proxy-tuned decoding over real (tiny, random) models: a GPT-2 "large" model with 64 token ids and
 * a LLaMA "small" model with 72 (8 extra trailing ids, truncated), with a LoRA expert whose B
 * factors are random so that expert and anti-expert differ.
 */
class ProxyLogitSourceTest {
    static final ModelConfig LARGE = ModelConfig.gpt2(64, 48, 2, 4, 64).withDropout(0, 0, 0);
    static final ModelConfig SMALL = ModelConfig.llama(72, 32, 2, 4, 2, 48, 64);
    static NDManager root;
    static DecoderModel large;
    static DecoderModel small;
    static LoraAdapter tuned;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
        large = DecoderModel.randomInit(LARGE, 21, root, DataType.FLOAT32, 0.3);
        small = DecoderModel.randomInit(SMALL, 22, root, DataType.FLOAT32, 0.3);
        tuned = randomLora(small, 5, root);
    }

    @AfterAll
    static void tearDown() {
        tuned.close();
        small.close();
        large.close();
        root.close();
    }

    /** A LoRA adapter with random (non-zero) B, standing in for an aggregated federated adapter. */
    static LoraAdapter randomLora(DecoderModel model, long seed, NDManager m) {
        LoraAdapter a = LoraAdapter.create(model, new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj")), seed, m);
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, DecoderModel.HostTensor> t = new LinkedHashMap<>();
        for (var e : a.exportTensors().entrySet()) {
            float[] v = e.getValue().values().clone();
            if (e.getKey().endsWith("lora_B")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.3);
                }
            }
            t.put(e.getKey(), new DecoderModel.HostTensor(e.getValue().shape(), v));
        }
        a.load(t);
        return a;
    }

    static int[] seq(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = 3 + r.nextInt(LARGE.vocabSize() - 3);
        }
        return x;
    }

    static List<int[]> prompts() {
        return List.of(seq(3, 1), seq(7, 2), seq(5, 3));
    }

    static ModelLogitSource largeSource() {
        return new ModelLogitSource(large, null, 0);
    }

    /** Hides {@link SequenceLogits}: the large model as a logits-only black box; counts the steps. */
    static final class BlackBox implements LogitSource {
        final LogitSource inner;
        int nextCalls;

        BlackBox(LogitSource inner) {
            this.inner = inner;
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }

        @Override
        public DecodingSession start(List<int[]> prompts) {
            DecodingSession s = inner.start(prompts);
            return new DecodingSession() {
                @Override
                public float[][] nextLogits() {
                    nextCalls++;
                    return s.nextLogits();
                }

                @Override
                public void append(int[] tokens) {
                    s.append(tokens);
                }

                @Override
                public void close() {
                    s.close();
                }
            };
        }
    }

    /** Steps a session through {@code steps} tokens of {@code continuation} per row, returning logits [step][row][V]. */
    static List<float[][]> step(LogitSource src, List<int[]> prompts, List<int[]> continuation, int steps) {
        List<float[][]> out = new ArrayList<>();
        try (LogitSource.DecodingSession s = src.start(prompts)) {
            for (int k = 0; k < steps; k++) {
                out.add(s.nextLogits());
                if (k < steps - 1) {
                    int[] next = new int[prompts.size()];
                    for (int i = 0; i < next.length; i++) {
                        next[i] = continuation.get(i)[k];
                    }
                    s.append(next);
                }
            }
        }
        return out;
    }

    static List<int[]> concat(List<int[]> a, List<int[]> b) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            int[] x = new int[a.get(i).length + b.get(i).length];
            System.arraycopy(a.get(i), 0, x, 0, a.get(i).length);
            System.arraycopy(b.get(i), 0, x, a.get(i).length, b.get(i).length);
            out.add(x);
        }
        return out;
    }

    /** Row {@code row}, position {@code pos} of a [B, T, V] float array. */
    static float[] at(float[] flat, int t, int v, int row, int pos) {
        int from = (row * t + pos) * v;
        return java.util.Arrays.copyOfRange(flat, from, from + v);
    }

    @Test
    void alphaZeroReproducesTheLargeModelExactly() {
        ProxyLogitSource proxy = ProxyLogitSource.of(largeSource(), small, tuned, 0.0, 0);
        assertThat(proxy.vocabSize()).isEqualTo(64);
        List<int[]> prompts = prompts();
        List<int[]> want = List.of(seq(5, 4), seq(5, 5), seq(5, 6));
        List<float[][]> a = step(largeSource(), prompts, want, 5);
        List<float[][]> b = step(proxy, prompts, want, 5);
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(b.get(k)[i]).as("step %s row %s", k, i).containsExactly(a.get(k)[i]);
            }
        }
        try (NDManager m = root.newSubManager()) {
            List<int[]> seqs = concat(prompts, want);
            assertThat(proxy.sequenceLogits(seqs, m).toFloatArray())
                    .containsExactly(largeSource().sequenceLogits(seqs, m).toFloatArray());
        }
    }

    @Test
    void identicalTunedAndBaseModelsGiveTheLargeModelExactly() {
        List<int[]> prompts = prompts();
        List<int[]> cont = List.of(seq(4, 7), seq(4, 8), seq(4, 9));
        List<float[][]> want = step(largeSource(), prompts, cont, 4);
        // the same small model twice, and a fresh LoRA (B = 0) against its own base
        try (NDManager m = root.newSubManager();
                LoraAdapter fresh = LoraAdapter.create(small, new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj")), 3, m)) {
            List<ProxyLogitSource> proxies = List.of(
                    new ProxyLogitSource(largeSource(), new ModelLogitSource(small, null, 0),
                            new ModelLogitSource(small, null, 0), 1.3),
                    ProxyLogitSource.of(largeSource(), small, fresh, 2.0, 0));
            for (ProxyLogitSource proxy : proxies) {
                List<float[][]> got = step(proxy, prompts, cont, 4);
                for (int k = 0; k < 4; k++) {
                    for (int i = 0; i < prompts.size(); i++) {
                        assertThat(got.get(k)[i]).as("step %s row %s", k, i).containsExactly(want.get(k)[i]);
                    }
                }
                List<int[]> seqs = concat(prompts, cont);
                assertThat(proxy.sequenceLogits(seqs, m).toFloatArray())
                        .containsExactly(largeSource().sequenceLogits(seqs, m).toFloatArray());
            }
            // and the tuned expert does change the distribution
            List<float[][]> tunedLogits = step(ProxyLogitSource.of(largeSource(), small, tuned, 1.0, 0), prompts, cont, 1);
            assertThat(tunedLogits.get(0)[0]).isNotEqualTo(want.get(0)[0]);
        }
    }

    @Test
    void kvCachedProxyDecodingEqualsTeacherForcedProxyScores() {
        ProxyLogitSource proxy = ProxyLogitSource.of(largeSource(), small, tuned, 1.5, 0);
        List<int[]> prompts = prompts();
        int n = 6;
        List<int[]> generated = Generator.generate(proxy, prompts, Generator.Config.greedy(n, -1));
        List<float[][]> stepped = step(proxy, prompts, generated, n);
        List<int[]> seqs = concat(prompts, generated);
        int t = 7 + n;
        int v = 64;
        double[][] scores = new Scorer(proxy, 2, root).tokenLogProbs(seqs);
        try (NDManager m = root.newSubManager()) {
            float[] tf = proxy.sequenceLogits(seqs, m).toFloatArray();
            for (int i = 0; i < prompts.size(); i++) {
                for (int k = 0; k < n; k++) {
                    int pos = prompts.get(i).length - 1 + k; // position predicting generated token k
                    float[] want = at(tf, t, v, i, pos);
                    float[] got = stepped.get(k)[i];
                    assertThat(got).hasSize(v);
                    for (int j = 0; j < v; j++) {
                        assertThat(got[j]).as("row %s step %s id %s", i, k, j).isCloseTo(want[j], within(1e-5f));
                    }
                    // greedy decoding picked the teacher-forced argmax
                    assertThat(generated.get(i)[k]).isEqualTo(Sampling.argmax(want));
                    // and the Scorer's log-probability is log_softmax of the KV-cached proxy logits
                    assertThat(scores[i][pos]).isCloseTo(logSoftmax(got, generated.get(i)[k]), within(1e-5));
                }
            }
        }
    }

    static double logSoftmax(float[] z, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : z) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : z) {
            sum += Math.exp(x - max);
        }
        return z[id] - max - Math.log(sum);
    }

    @Test
    void blackBoxLargeModelIsSteppedTokenByToken() {
        List<int[]> seqs = List.of(seq(4, 11), seq(9, 12), seq(1, 13));
        BlackBox box = new BlackBox(largeSource());
        try (NDManager m = root.newSubManager()) {
            float[] stepped = TeacherForcing.logits(box, seqs, m).toFloatArray();
            assertThat(box.nextCalls).isEqualTo(9); // one session, one call per position of the longest sequence
            float[] direct = largeSource().sequenceLogits(seqs, m).toFloatArray();
            for (int i = 0; i < seqs.size(); i++) {
                for (int pos = 0; pos < seqs.get(i).length; pos++) { // positions past the end are filler
                    float[] a = at(stepped, 9, 64, i, pos);
                    float[] b = at(direct, 9, 64, i, pos);
                    for (int j = 0; j < 64; j++) {
                        assertThat(a[j]).as("row %s pos %s id %s", i, pos, j).isCloseTo(b[j], within(1e-5f));
                    }
                }
            }
            // the proxy over a black-box large model gives the same teacher-forced logits
            float[] viaBox = ProxyLogitSource.of(box, small, tuned, 1.5, 0).sequenceLogits(seqs, m).toFloatArray();
            float[] viaModel = ProxyLogitSource.of(largeSource(), small, tuned, 1.5, 0).sequenceLogits(seqs, m).toFloatArray();
            for (int i = 0; i < seqs.size(); i++) {
                for (int pos = 0; pos < seqs.get(i).length; pos++) {
                    float[] a = at(viaBox, 9, 64, i, pos);
                    float[] b = at(viaModel, 9, 64, i, pos);
                    for (int j = 0; j < 64; j++) {
                        assertThat(a[j]).isCloseTo(b[j], within(1e-5f));
                    }
                }
            }
        }
    }

    @Test
    void samplingAppliesTemperatureAndTopPToTheCombinedLogits() {
        double alpha = 2.0;
        ProxyLogitSource proxy = ProxyLogitSource.of(largeSource(), small, tuned, alpha, 0);
        List<int[]> prompts = prompts();
        Generator.Config cfg = new Generator.Config(6, 0.8, 0.9, -1, 7);
        List<int[]> got = Generator.generate(proxy, prompts, cfg);
        // by hand: three sessions, the arithmetic on host logits, then temperature/top-p sampling
        // (Generator seeds row i's stream with seed · 0x9E3779B97F4A7C15 + i)
        try (LogitSource.DecodingSession l = largeSource().start(prompts);
                LogitSource.DecodingSession e = new ModelLogitSource(small, tuned, 0).start(prompts);
                LogitSource.DecodingSession a = new ModelLogitSource(small, null, 0).start(prompts)) {
            SplittableRandom[] rng = new SplittableRandom[prompts.size()];
            for (int i = 0; i < rng.length; i++) {
                rng[i] = new SplittableRandom(7 * 0x9E3779B97F4A7C15L + i);
            }
            for (int k = 0; k < 6; k++) {
                float[][] zl = l.nextLogits();
                float[][] ze = e.nextLogits();
                float[][] za = a.nextLogits();
                int[] next = new int[prompts.size()];
                for (int i = 0; i < next.length; i++) {
                    float[] z = new float[64];
                    for (int j = 0; j < 64; j++) {
                        z[j] = (float) (zl[i][j] + (float) alpha * (ze[i][j] - za[i][j]));
                    }
                    next[i] = Sampling.sample(z, 0.8, 0.9, rng[i]);
                    assertThat(got.get(i)[k]).as("row %s step %s", i, k).isEqualTo(next[i]);
                }
                l.append(next);
                e.append(next);
                a.append(next);
            }
        }
    }

    @Test
    void largeVocabularyBeyondTheSmallModelsIsRejected() {
        try (NDManager m = root.newSubManager();
                DecoderModel big = DecoderModel.randomInit(ModelConfig.gpt2(80, 16, 1, 2, 64), 1, m, DataType.FLOAT32)) {
            assertThatThrownBy(() -> ProxyLogitSource.of(new ModelLogitSource(big, null, 0), small, tuned, 1.0, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expert) has 72 token ids but the large model has 80");
        }
    }

    @Test
    void proxyScoresWithTheScorer() {
        // a plain check that label scoring runs on the proxy and agrees with its token log-probs
        ProxyLogitSource proxy = ProxyLogitSource.of(largeSource(), small, tuned, 1.0, 0);
        Scorer s = new Scorer(proxy, 4, root);
        int[] prompt = seq(5, 31);
        List<int[]> labels = List.of(new int[] {5, 6}, new int[] {9});
        double[] ll = s.responseLogLikelihood(List.of(prompt, prompt), labels);
        int picked = s.pickLabels(List.of(prompt), labels)[0];
        assertThat(picked).isEqualTo(ll[0] > ll[1] ? 0 : 1);
        double[] lp = s.tokenLogProbs(List.of(new int[] {prompt[0], prompt[1], prompt[2], prompt[3], prompt[4], 9}))[0];
        assertThat(ll[1]).isCloseTo(lp[4], within(1e-5));
        try (NDManager m = root.newSubManager()) {
            NDArray z = proxy.sequenceLogits(List.of(prompt), m);
            assertThat(z.getShape().getShape()).containsExactly(1, 5, 64);
        }
    }
}
