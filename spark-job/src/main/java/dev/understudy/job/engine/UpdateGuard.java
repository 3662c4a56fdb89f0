package dev.understudy.job.engine;

import dev.understudy.ops.federation.ClientFailure;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * Divergence checks on client updates and on the global adapter, so that nothing non-finite or
 * absurd is aggregated, committed or exported.
 *
 * <p>A client's update (trained adapter minus the global one) fails the client, as a named client
 * failure the server's failure policy handles, when it has a non-finite element, when its
 * root-mean-square element exceeds {@code maxUpdateRms} ({@code client.max_update_rms}), or when the
 * client's mean training loss exceeds {@code maxTrainLoss} ({@code client.max_train_loss}; 0 = 2 ln V,
 * twice the loss of predicting the V-token vocabulary uniformly). With AdamW each step moves an
 * element by about the learning rate, so a healthy update's RMS is at most about {@code lr × steps}
 * (≤ 0.1 for the defaults' 2e-4 × 10 and for the tests' 0.02 × 5); {@code lr=1e6} or {@code 1e30}
 * gives millions or more. A round whose sampled clients all fail stops the run
 * ({@link #checkRound}), and a non-finite global adapter is never committed ({@link #checkGlobal}).
 *
 * @param maxUpdateRms largest RMS element of an update; 0 = no bound
 * @param maxTrainLoss largest mean training loss; 0 = 2 ln(vocabulary size)
 */
public record UpdateGuard(double maxUpdateRms, double maxTrainLoss) implements Serializable {
    /** {@code client.max_update_rms=1.0}, {@code client.max_train_loss=0} (2 ln V). */
    public static final UpdateGuard DEFAULT = new UpdateGuard(1.0, 0.0);

    public UpdateGuard {
        if (!(maxUpdateRms >= 0) || !(maxTrainLoss >= 0)) {
            throw new IllegalArgumentException("Cannot set client.max_update_rms=" + maxUpdateRms
                    + " / client.max_train_loss=" + maxTrainLoss + ", both must be ≥ 0 (0 = default bound)");
        }
    }

    /** Root-mean-square element of {@code v} (0 for an empty vector; NaN if any element is non-finite). */
    public static double rms(float[] v) {
        if (v.length == 0) {
            return 0;
        }
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s / v.length);
    }

    /** Number of NaN or infinite elements of {@code v}. */
    public static int nonFinite(float[] v) {
        int n = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Why a client's update must not be aggregated, or null when it passes.
     *
     * @param steps the local optimiser steps that produced it
     * @param vocabSize the model's vocabulary, for the default loss bound
     */
    public String check(int round, String clientId, int steps, float[] delta, double meanLoss, int vocabSize) {
        String where = String.format(Locale.ROOT, "round %d, client %s, after %d local step%s", round, clientId, steps,
                steps == 1 ? "" : "s");
        int bad = nonFinite(delta);
        if (bad > 0) {
            return String.format(Locale.ROOT, "diverged (%s): the update has %d non-finite value%s of %d; lower client.lr",
                    where, bad, bad == 1 ? "" : "s", delta.length);
        }
        if (!Double.isFinite(meanLoss) && delta.length > 0) {
            return "diverged (" + where + "): training loss " + meanLoss + "; lower client.lr";
        }
        double rms = rms(delta);
        if (maxUpdateRms > 0 && rms > maxUpdateRms) {
            return String.format(Locale.ROOT, "diverged (%s): update RMS %.3g exceeds client.max_update_rms=%s (L2 norm %.3g);"
                    + " lower client.lr, or raise the bound if such updates are intended", where, rms, maxUpdateRms,
                    rms * Math.sqrt(delta.length));
        }
        double lossBound = lossBound(vocabSize);
        if (lossBound > 0 && meanLoss > lossBound) {
            return String.format(Locale.ROOT, "diverged (%s): mean training loss %.4g exceeds client.max_train_loss=%.4g%s;"
                    + " lower client.lr", where, meanLoss, lossBound, maxTrainLoss > 0 ? "" : " (2 ln " + vocabSize + ")");
        }
        return null;
    }

    /** The training-loss bound for a vocabulary of {@code vocabSize} tokens (0 = none). */
    public double lossBound(int vocabSize) {
        return maxTrainLoss > 0 ? maxTrainLoss : vocabSize > 1 ? 2 * Math.log(vocabSize) : 0;
    }

    /**
     * Stops the run when every sampled client of a round failed: nothing can be aggregated, and
     * carrying on would repeat the failure every round.
     *
     * @throws IllegalStateException naming the round and each client's reason
     */
    public static void checkRound(int round, int succeeded, List<ClientFailure> failures) {
        if (succeeded > 0 || failures.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        int shown = 0;
        for (ClientFailure f : failures) {
            if (shown++ == 3) {
                b.append("; and ").append(failures.size() - 3).append(" more");
                break;
            }
            b.append(shown == 1 ? "" : "; ").append(f.clientId()).append(": ").append(f.reason());
        }
        throw new IllegalStateException("round " + round + ": all " + failures.size() + " sampled clients failed, so the run"
                + " stops with round " + (round - 1) + " as its last committed round (" + b + ")");
    }

    /**
     * Refuses to commit a global adapter with non-finite elements (e.g. from a server optimiser or a
     * method's server step).
     */
    public static void checkGlobal(int round, float[] global) {
        int bad = nonFinite(global);
        if (bad > 0) {
            throw new IllegalStateException(String.format(Locale.ROOT, "round %d: the aggregated global adapter has %d"
                    + " non-finite value%s of %d; nothing committed for this round (last committed: round %d); lower"
                    + " client.lr or the strategy's learning rate", round, bad, bad == 1 ? "" : "s", global.length,
                    round - 1));
        }
    }
}
