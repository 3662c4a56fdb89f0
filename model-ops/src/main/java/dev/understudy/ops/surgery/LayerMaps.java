package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/** Which blocks a layer-dropped model keeps (pure functions; methods.md §0.5, §3, §4(a)). */
public final class LayerMaps {
    private LayerMaps() {}

    /**
     * Offsite-Tuning's {@code uniform_choose_layers} (methods.md §0.5): to keep {@code k} of {@code
     * n} layers, {@code idx_i = round(i·(n−1)/(k−1))} for {@code i = 0..k−1}, which keeps the first
     * and the last. {@code round} is Python's (half to even), as in the reference code, so e.g.
     * n = 6, k = 3 gives {@code [0, 2, 5]} (2.5 rounds to 2). {@code k = 1} keeps layer 0.
     */
    public static int[] uniformStride(int n, int k) {
        checkArgument(n > 0 && k > 0 && k <= n, "cannot keep %s of %s layers", k, n);
        if (k == 1) {
            return new int[] {0};
        }
        double stride = (n - 1) / (double) (k - 1);
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = (int) Math.rint(i * stride);
        }
        return out;
    }

    /**
     * The parent blocks an Offsite-Tuning emulator {@code l-k-r} keeps out of {@code numLayers}:
     * the bottom adapter {@code [0, l)}, {@code k} of the middle {@code [l, L−r)} by {@link
     * #uniformStride}, and the top adapter {@code [L−r, L)}.
     */
    public static int[] emulator(int numLayers, int bottom, int k, int top) {
        int middle = numLayers - bottom - top;
        checkArgument(bottom >= 0 && top >= 0 && middle > 0, "emulator %s-%s-%s does not fit %s layers", bottom, k, top,
                numLayers);
        int[] mid = uniformStride(middle, k);
        int[] out = new int[bottom + k + top];
        for (int i = 0; i < bottom; i++) {
            out[i] = i;
        }
        for (int i = 0; i < k; i++) {
            out[bottom + i] = bottom + mid[i];
        }
        for (int i = 0; i < top; i++) {
            out[bottom + k + i] = numLayers - top + i;
        }
        return out;
    }

    /**
     * FedProxy / ShortGPT block removal (methods.md §3): removes the blocks with the lowest score
     * (Block Influence) until {@code keep} remain, never removing an {@code exempt} block; the
     * kept blocks stay in order. Ties are broken by removing the earlier block first.
     */
    public static int[] keepHighestScores(double[] scores, int keep, Set<Integer> exempt) {
        int n = scores.length;
        checkArgument(keep > 0 && keep <= n, "cannot keep %s of %s layers", keep, n);
        checkArgument(exempt.size() <= keep, "%s exempt layers do not fit in %s kept", exempt.size(), keep);
        List<Integer> removable = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            checkArgument(Double.isFinite(scores[i]), "score of layer %s is %s", i, scores[i]);
            if (!exempt.contains(i)) {
                removable.add(i);
            }
        }
        removable.sort(Comparator.<Integer>comparingDouble(i -> scores[i]).thenComparingInt(i -> i));
        boolean[] removed = new boolean[n];
        for (int r = 0; r < n - keep; r++) {
            removed[removable.get(r)] = true;
        }
        return IntStream.range(0, n).filter(i -> !removed[i]).toArray();
    }

    /** FedProxy's kept-block count: {@code max(1, L − floor(L · removeRatio))}. */
    public static int keepCount(int numLayers, double removeRatio) {
        checkArgument(removeRatio >= 0 && removeRatio < 1, "remove ratio %s must be in [0, 1)", removeRatio);
        return Math.max(1, numLayers - (int) Math.floor(numLayers * removeRatio));
    }

    static String describe(int[] map) {
        return Arrays.toString(map);
    }
}
