package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Autoregressive generation over any {@link LogitSource}: greedy, temperature or nucleus sampling,
 * stopping per sequence at {@code eosId} or after {@code maxNewTokens}. Sampling is seeded per
 * sequence index, so a batch gives the same outputs as its sequences one at a time.
 */
public final class Generator {
    private Generator() {}

    /**
     * @param maxNewTokens upper bound on generated tokens per sequence
     * @param temperature 0 for greedy decoding
     * @param topP nucleus mass in (0, 1]
     * @param eosId stop token, or -1 for none
     * @param seed sampling seed
     */
    public record Config(int maxNewTokens, double temperature, double topP, int eosId, long seed) {
        public Config {
            checkArgument(maxNewTokens >= 1, "Cannot set max_new_tokens to %s, must be ≥ 1", maxNewTokens);
            checkArgument(temperature >= 0, "Cannot set temperature to %s, must be ≥ 0", temperature);
            checkArgument(topP > 0 && topP <= 1, "Cannot set top_p to %s, must be in (0, 1]", topP);
        }

        public static Config greedy(int maxNewTokens, int eosId) {
            return new Config(maxNewTokens, 0, 1, eosId, 0);
        }
    }

    /** Generates continuations (without the prompts; including the EOS token when produced). */
    public static List<int[]> generate(LogitSource source, List<int[]> prompts, Config config) {
        int b = prompts.size();
        SplittableRandom[] rng = new SplittableRandom[b];
        for (int i = 0; i < b; i++) {
            rng[i] = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + i);
        }
        List<List<Integer>> out = new ArrayList<>();
        boolean[] done = new boolean[b];
        for (int i = 0; i < b; i++) {
            out.add(new ArrayList<>());
        }
        try (LogitSource.DecodingSession s = source.start(prompts)) {
            for (int step = 0; step < config.maxNewTokens(); step++) {
                float[][] logits = s.nextLogits();
                int[] next = new int[b];
                boolean all = true;
                for (int i = 0; i < b; i++) {
                    if (done[i]) {
                        next[i] = config.eosId() >= 0 ? config.eosId() : 0; // filler, discarded
                        continue;
                    }
                    next[i] = Sampling.sample(logits[i], config.temperature(), config.topP(), rng[i]);
                    out.get(i).add(next[i]);
                    if (next[i] == config.eosId()) {
                        done[i] = true;
                    }
                    all &= done[i];
                }
                if (all || step == config.maxNewTokens() - 1) {
                    break;
                }
                s.append(next);
            }
        }
        List<int[]> result = new ArrayList<>();
        for (List<Integer> l : out) {
            result.add(l.stream().mapToInt(Integer::intValue).toArray());
        }
        return result;
    }
}
