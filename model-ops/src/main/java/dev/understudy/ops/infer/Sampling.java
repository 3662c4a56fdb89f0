package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Next-token selection from logits: greedy (temperature 0), temperature, and nucleus (top-p)
 * sampling (Holtzman et al. 2020, arXiv:1904.09751). Temperature is applied first, then the
 * smallest set of tokens whose probability mass reaches {@code topP} is kept and renormalised.
 */
public final class Sampling {
    private Sampling() {}

    /** Index of the largest logit (lowest index on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The processed distribution: softmax(logits / temperature) restricted to the top-p nucleus. */
    public static double[] distribution(float[] logits, double temperature, double topP) {
        checkArgument(temperature > 0, "temperature must be > 0 for sampling, got %s", temperature);
        checkArgument(topP > 0 && topP <= 1, "Cannot set top_p to %s, must be in (0, 1]", topP);
        int v = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            z += p[i];
        }
        for (int i = 0; i < v; i++) {
            p[i] /= z;
        }
        if (topP < 1) {
            Integer[] idx = new Integer[v];
            for (int i = 0; i < v; i++) {
                idx[i] = i;
            }
            Arrays.sort(idx, (a, b) -> p[b] != p[a] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
            double cum = 0;
            int keep = 0;
            while (keep < v && cum < topP) {
                cum += p[idx[keep]];
                keep++;
            }
            double[] q = new double[v];
            for (int k = 0; k < keep; k++) {
                q[idx[k]] = p[idx[k]] / cum;
            }
            return q;
        }
        return p;
    }

    /** Samples a token; greedy when {@code temperature == 0}. */
    public static int sample(float[] logits, double temperature, double topP, SplittableRandom random) {
        if (temperature == 0) {
            return argmax(logits);
        }
        double[] p = distribution(logits, temperature, topP);
        double u = random.nextDouble();
        double cum = 0;
        int lastNonZero = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cum += p[i];
                lastNonZero = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return lastNonZero; // rounding: u landed past the accumulated mass
    }
}
