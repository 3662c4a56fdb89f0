package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation scoring: prompts cut at the prompt length, EOS stripped, ROUGE-L against the decoded reference. */
class GenerationEvalFunctionTest {
    @TempDir
    Path tmp;

    /** Emits a fixed token sequence per batch row, whatever the context (argmax of one-hot logits). */
    record Scripted(int vocab, List<int[]> scripts) implements LogitSource {
        @Override
        public int vocabSize() {
            return vocab;
        }

        @Override
        public DecodingSession start(List<int[]> prompts) {
            return new DecodingSession() {
                int step;

                @Override
                public float[][] nextLogits() {
                    float[][] z = new float[prompts.size()][vocab];
                    for (int i = 0; i < prompts.size(); i++) {
                        int[] s = scripts.get(i);
                        z[i][s[Math.min(step, s.length - 1)]] = 10f;
                    }
                    return z;
                }

                @Override
                public void append(int[] tokens) {
                    step++;
                }

                @Override
                public void close() {}
            };
        }
    }

    @Test
    void greedyGenerationsAreScoredAgainstTheReferenceResponse() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 16, 1, 2, 1, 32, 64), 1, spec, tmp.resolve("m"));
        try (Tokenizer tok = Tokenizer.load(tmp.resolve("m"));
                NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = HfModels.load(tmp.resolve("m"), m, DataType.FLOAT32)) {
            int eos = tok.eosId().getAsInt();
            var a = tok.encodePromptResponse("Define cat.", " a small cat", 64, true, true);
            var b = tok.encodePromptResponse("Define dog.", " a loyal dog", 64, true, true);
            ClientData data = new ClientData("c", List.of(), List.of(new ClientData.Tokens(a.ids(), a.promptLength()),
                    new ClientData.Tokens(b.ids(), b.promptLength())));
            int[] exact = append(tok.encode(" a small cat", false, false), eos); // the reference, then EOS
            int[] half = append(tok.encode(" a dog", false, false), eos);
            var source = new Scripted(model.config().vocabSize(), List.of(exact, half));
            GenerationEvalFunction.ClientGeneration g = GenerationEvalFunction.evaluate(source,
                    new Scorer(model, null, 4, tok.padIdOrEos()), tok, data, 4, 40);
            // first: identical words, F1 1; second: [a, dog] vs [a, loyal, dog]: LCS 2, P 1, R 2/3, F1 0.8
            assertThat(g.rougeSum()).isCloseTo(1.0 + 0.8, within(1e-12));
            assertThat(g.examples()).isEqualTo(2);
            assertThat(g.generatedTokens()).isEqualTo(exact.length + half.length); // each stopped at its EOS
            GenerationEvalFunction.ClientGeneration cut = GenerationEvalFunction.evaluate(source,
                    new Scorer(model, null, 4, tok.padIdOrEos()), tok, data, 4, 6);
            // six tokens: " a sma" ([a, sma] vs [a, small, cat]: F1 2·(1/2)(1/3)/(5/6) = 0.4) and " a dog"
            assertThat(cut.rougeSum()).isCloseTo(0.4 + 0.8, within(1e-12));
            assertThat(cut.generatedTokens()).isEqualTo(12);
            assertThat(g.samples().get(0).prompt()).isEqualTo("Define cat.");
            assertThat(g.samples().get(0).reference()).isEqualTo(" a small cat");
            assertThat(g.samples().get(1).generated()).isEqualTo(" a dog");
            // the response loss is the teacher-forced one EvalFunction reports
            EvalFunction.ClientEval e = EvalFunction.evaluate(new Scorer(model, null, 4, tok.padIdOrEos()), data, null);
            assertThat(g.nll()).isEqualTo(e.nll());
            assertThat(g.tokens()).isEqualTo(e.tokens());
        }
    }

    static int[] append(int[] ids, int id) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }
}
