package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.Ops;

/** Loss functions as small pure functions over NDArrays. */
public final class Losses {
    private Losses() {}

    /**
     * Summed next-token negative log-likelihood: {@code -Σ log softmax(logits[b, t])[labels[b, t+1]]}
     * over positions whose shifted label is not {@link TokenBatch#IGNORE}.
     *
     * @param logits {@code [B, T, V]}
     * @param labels int64 {@code [B, T]} (unshifted, see {@link TokenBatch})
     * @return scalar sum (divide by the token count for the mean)
     */
    public static NDArray causalLmNllSum(NDArray logits, NDArray labels) {
        long t = logits.getShape().get(1);
        NDArray pred = logits.get(":, 0:" + (t - 1) + ", :"); // (B, T-1, V)
        NDArray target = labels.get(":, 1:"); // (B, T-1)
        NDArray valid = Ops.neq(target, TokenBatch.IGNORE); // (B, T-1)
        NDArray safeTarget = Ops.maximum(target, 0).expandDims(-1); // (B, T-1, 1); ignored -> id 0, masked out below
        NDArray logp = pred.logSoftmax(-1).gather(safeTarget, -1).squeeze(-1); // (B, T-1)
        return logp.mul(valid.toType(logp.getDataType(), false)).sum().neg();
    }

    /** Per-token log-probabilities of the shifted labels: {@code [B, T-1]}, zero where ignored. */
    public static NDArray tokenLogProbs(NDArray logits, NDArray labels) {
        long t = logits.getShape().get(1);
        NDArray pred = logits.get(":, 0:" + (t - 1) + ", :");
        NDArray target = labels.get(":, 1:");
        NDArray valid = Ops.neq(target, TokenBatch.IGNORE);
        NDArray logp = pred.logSoftmax(-1).gather(Ops.maximum(target, 0).expandDims(-1), -1).squeeze(-1);
        return logp.mul(valid.toType(logp.getDataType(), false));
    }
}
