package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.IntStream;

/** FFN neuron saliency scores and top-K selection (pure functions on host tensors). */
public final class Saliency {
    private Saliency() {}

    /**
     * FedPFT's weight saliency (methods.md §2(a), Step A): {@code s_j = ‖[W_in[j,:], W_out[:,j]]‖₂},
     * the L2 norm of neuron {@code j}'s input and output weights concatenated. For SwiGLU the input
     * weights are the gate row and the up row: {@code s_j = sqrt(‖gate[j,:]‖² + ‖up[j,:]‖² +
     * ‖down[:,j]‖²)} (methods.md §2, "Carrying FedPFT to decoders"). Biases do not count.
     */
    public static double[] weight(BlockLayout layout, Map<String, HostTensor> tensors, int layer) {
        int n = layout.ffnWidth(layer);
        double[] s = new double[n];
        for (BlockLayout.NeuronAxis t : layout.ffnTensors(layer)) {
            if (!t.weight()) {
                continue;
            }
            HostTensor w = require(tensors, t.tensor());
            checkArgument(NeuronSlices.extent(w, t.axis()) == n, "%s has %s neurons along axis %s, expected %s",
                    t.tensor(), NeuronSlices.extent(w, t.axis()), t.axis(), n);
            for (int j = 0; j < n; j++) {
                s[j] += NeuronSlices.sumSquares(w, t.axis(), j);
            }
        }
        for (int j = 0; j < n; j++) {
            s[j] = Math.sqrt(s[j]);
        }
        return s;
    }

    /**
     * Activation-aware saliency (<b>ours</b>, not from FedPFT): the root-mean-square size of
     * neuron {@code j}'s contribution to the block output on calibration data, {@code s_j =
     * sqrt(mean_t a_tj²) · ‖W_out[:,j]‖₂}, where {@code a} is the FFN activation ({@link
     * dev.understudy.ops.model.ForwardTap#ffnActivation}) and {@code W_out} the down projection.
     * A neuron with large weights that the data never activates scores low.
     *
     * @param meanSquareActivation {@code mean_t a_tj²} per neuron over the calibration tokens
     */
    public static double[] activationAware(
            BlockLayout layout, Map<String, HostTensor> tensors, int layer, double[] meanSquareActivation) {
        int n = layout.ffnWidth(layer);
        checkArgument(meanSquareActivation.length == n, "%s activation statistics for %s neurons",
                meanSquareActivation.length, n);
        double[] out = new double[n];
        for (BlockLayout.NeuronAxis t : layout.ffnTensors(layer)) {
            if (t.weight() && t.output()) {
                HostTensor w = require(tensors, t.tensor());
                for (int j = 0; j < n; j++) {
                    out[j] += NeuronSlices.sumSquares(w, t.axis(), j);
                }
            }
        }
        for (int j = 0; j < n; j++) {
            out[j] = Math.sqrt(meanSquareActivation[j]) * Math.sqrt(out[j]);
        }
        return out;
    }

    /**
     * The {@code k} highest-scoring neurons, returned in ascending index order (FedPFT keeps the
     * kept neurons in their original order). Ties go to the lower index.
     */
    public static int[] topK(double[] scores, int k) {
        checkArgument(k > 0 && k <= scores.length, "cannot keep %s of %s neurons", k, scores.length);
        for (double s : scores) {
            checkArgument(Double.isFinite(s), "saliency %s is not finite", s);
        }
        int[] best = IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(j -> -scores[j]).thenComparingInt(j -> j))
                .limit(k).mapToInt(Integer::intValue).toArray();
        Arrays.sort(best);
        return best;
    }

    static HostTensor require(Map<String, HostTensor> tensors, String name) {
        HostTensor t = tensors.get(name);
        checkArgument(t != null, "the model has no tensor %s", name);
        return t;
    }
}
