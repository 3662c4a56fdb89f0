package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Poisson client sampling: each client joins round r independently with probability q, from a
 * stream seeded by (seed, r). This is the sampling the RDP analysis of the sampled Gaussian
 * mechanism assumes ({@link Rdp}); a fixed-size sample (the engine's default) would need the
 * without-replacement bound instead. The number of sampled clients varies from round to round,
 * with mean qN, and may be 0.
 */
public final class PoissonSampling {
    private PoissonSampling() {}

    /**
     * @param sortedIds every client id, sorted (the draws are made in this order)
     * @param q inclusion probability in (0, 1]
     * @return the sampled ids, sorted
     */
    public static List<String> sample(List<String> sortedIds, double q, long seed, int round) {
        checkNotNull(sortedIds, "client ids");
        checkArgument(q > 0 && q <= 1, "The sampling probability must be in (0, 1], got %s", q);
        SplittableRandom r = new SplittableRandom(GaussianNoise.mix(seed ^ 0x3C6EF372FE94F82BL, round));
        List<String> out = new ArrayList<>();
        for (String id : sortedIds) {
            if (r.nextDouble() < q) {
                out.add(id);
            }
        }
        return out;
    }
}
