package dev.understudy.ops.surgery;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ForwardTap;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.TokenBatch;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One no-grad pass over calibration sequences that measures what data-driven surgery needs: every
 * block's Block Influence and every FFN neuron's mean squared activation, over valid (non-padding)
 * tokens.
 *
 * @param blockInfluence BI per block ({@link BlockInfluence})
 * @param meanSquare layer → per-neuron {@code mean a²} (for {@link Saliency#activationAware})
 * @param tokens valid tokens measured
 */
public record Calibration(double[] blockInfluence, Map<Integer, double[]> meanSquare, long tokens) {

    /** Runs {@code model} over {@code sequences} in micro-batches of {@code batchSize}. */
    public static Calibration measure(DecoderModel model, List<int[]> sequences, int batchSize, int padId) {
        int layers = model.config().numLayers();
        double[] cosSum = new double[layers];
        double[][] sq = new double[layers][];
        long tokens = 0;
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (int from = 0; from < sequences.size(); from += batchSize) {
                List<Example> mb = sequences.subList(from, Math.min(sequences.size(), from + batchSize)).stream()
                        .map(Example::lm).toList();
                try (NDScope ignored = new NDScope();
                        NDManager m = model.manager().newSubManager();
                        TokenBatch batch = TokenBatch.collate(mb, padId, m)) {
                    NDArray mask = batch.mask();
                    NDArray mask3 = mask.toType(DataType.FLOAT64, false).expandDims(-1);
                    NDArray[] prev = new NDArray[1];
                    ForwardTap tap = new ForwardTap() {
                        @Override
                        public boolean wantsFfnActivation(int layer) {
                            return true;
                        }

                        @Override
                        public void embeddings(NDArray x) {
                            prev[0] = x;
                        }

                        @Override
                        public void blockOutput(int layer, NDArray x) {
                            cosSum[layer] += BlockInfluence.cosineSum(prev[0], x, mask);
                            prev[0] = x;
                        }

                        @Override
                        public void ffnActivation(int layer, NDArray a) {
                            double[] s = a.toType(DataType.FLOAT64, false).square().mul(mask3).sum(new int[] {0, 1})
                                    .toDoubleArray();
                            if (sq[layer] == null) {
                                sq[layer] = new double[s.length];
                            }
                            for (int j = 0; j < s.length; j++) {
                                sq[layer][j] += s[j];
                            }
                        }
                    };
                    model.hiddenStates(batch.ids(), mask, null, null, null, null, tap);
                    tokens += mask.toType(DataType.INT64, false).sum().getLong();
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
        double[] bi = new double[layers];
        Map<Integer, double[]> ms = new TreeMap<>();
        for (int l = 0; l < layers; l++) {
            bi[l] = BlockInfluence.fromSums(cosSum[l], tokens);
            double[] s = sq[l];
            for (int j = 0; j < s.length; j++) {
                s[j] /= tokens;
            }
            ms.put(l, s);
        }
        return new Calibration(bi, ms, tokens);
    }
}
