package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A simulated Byzantine attack, for measuring the robust rules: a seeded set of {@code
 * round(fraction·N)} clients, fixed for the whole run, that misbehave every round they are sampled.
 *
 * <ul>
 *   <li>{@code sign_flip}: the client sends {@code −scale·Δ} (Damaskinos et al. 2018; the "reversed
 *       gradient" attack of Blanchard et al. 2017 with scale 1);
 *   <li>{@code scale}: the client sends {@code scale·Δ} (model replacement / boosting, Bagdasaryan et
 *       al. 2020, "How To Backdoor Federated Learning");
 *   <li>{@code label_flip}: the client trains on its rows with each label replaced by the next one
 *       in label order (Fang et al. 2020 / Tolpegin et al. 2020); its update is sent unchanged.
 * </ul>
 *
 * @param kind the attack
 * @param fraction share of all clients that are attackers, in [0, 1)
 * @param scale the factor of {@code sign_flip} and {@code scale}
 * @param seed picks the attackers
 */
public record ByzantineAttack(Kind kind, double fraction, double scale, long seed) implements Serializable {
    /** The attacks. */
    public enum Kind {
        NONE, SIGN_FLIP, SCALE, LABEL_FLIP;

        /** {@code sign_flip} → SIGN_FLIP; unknown names fail listing the valid ones. */
        public static Kind parse(String name) {
            checkNotNull(name, "attack.kind");
            for (Kind k : values()) {
                if (k.name().toLowerCase(Locale.ROOT).equals(name.trim().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("Unknown attack.kind '" + name
                    + "'; valid kinds: [none, sign_flip, scale, label_flip]");
        }
    }

    /** No attack. */
    public static final ByzantineAttack NONE = new ByzantineAttack(Kind.NONE, 0, 1, 0);

    public ByzantineAttack {
        checkNotNull(kind, "attack.kind");
        checkArgument(fraction >= 0 && fraction < 1, "Cannot set attack.fraction to %s: the value must be in [0, 1)",
                fraction);
        checkArgument(Double.isFinite(scale) && scale != 0, "Cannot set attack.scale to %s: the value must be finite"
                + " and non-zero", scale);
    }

    /** The attackers among {@code clientIds}: the first round(fraction·N) of a seeded shuffle of the sorted ids. */
    public Set<String> attackers(List<String> clientIds) {
        checkNotNull(clientIds, "client ids");
        if (kind == Kind.NONE || fraction == 0) {
            return Set.of();
        }
        List<String> ids = new ArrayList<>(new TreeSet<>(clientIds));
        Collections.shuffle(ids, new java.util.Random(new SplittableRandom(seed ^ 0xB7E151628AED2A6BL).nextLong()));
        int k = (int) Math.round(fraction * ids.size());
        return Set.copyOf(ids.subList(0, k));
    }

    /** What an attacker sends instead of its honest delta: a new array for the update attacks, the same one otherwise. */
    public float[] corrupt(float[] delta) {
        checkNotNull(delta, "delta");
        double factor = switch (kind) {
            case SIGN_FLIP -> -scale;
            case SCALE -> scale;
            case NONE, LABEL_FLIP -> 1;
        };
        if (factor == 1) {
            return delta;
        }
        float[] out = new float[delta.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (delta[i] * factor);
        }
        return out;
    }

    /**
     * For {@code label_flip}: the training sequence with its response replaced by the next label's,
     * when its response (the ids after the prompt) is exactly one label's response; otherwise the
     * sequence unchanged. Labels are in the order given.
     *
     * @param labelResponses each label's response token ids, as the rows are tokenised
     */
    public static int[] flipLabel(int[] ids, int promptLength, List<int[]> labelResponses) {
        checkNotNull(ids, "ids");
        checkNotNull(labelResponses, "label responses");
        int n = labelResponses.size();
        for (int l = 0; l < n; l++) {
            int[] r = labelResponses.get(l);
            if (ids.length - promptLength == r.length
                    && java.util.Arrays.equals(ids, promptLength, ids.length, r, 0, r.length)) {
                int[] next = labelResponses.get((l + 1) % n);
                int[] out = java.util.Arrays.copyOf(ids, promptLength + next.length);
                System.arraycopy(next, 0, out, promptLength, next.length);
                return out;
            }
        }
        return ids;
    }
}
