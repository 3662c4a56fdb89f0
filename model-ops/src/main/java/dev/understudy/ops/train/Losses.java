package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
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

    /**
     * Summed forward KL divergence from a teacher to a student at temperature {@code T}, scaled by
     * {@code T²} as in knowledge distillation (Hinton, Vinyals &amp; Dean 2015, "Distilling the
     * Knowledge in a Neural Network", arXiv 1503.02531: the soft targets' gradients scale as
     * {@code 1/T²}, so multiplying by {@code T²} keeps their magnitude independent of {@code T}):
     *
     * <pre>
     *   T² · Σ_(b,t valid) Σ_v p_v (log p_v − log q_v),
     *   p = softmax(teacher[b, t] / T),  q = softmax(student[b, t] / T)
     * </pre>
     *
     * Position {@code t} counts when its shifted label {@code labels[b, t + 1]} is not {@link
     * TokenBatch#IGNORE}, the same positions as {@link #causalLmNllSum} (response tokens, or every
     * non-padding token of a language-modelling example). The student may have more token ids than
     * the teacher (see {@code ProxyTuning}'s vocabulary rule): {@code q} is normalised over the
     * student's whole vocabulary and the teacher gives the extra ids probability 0, so the loss pulls
     * the student's mass off them. Teacher entries of {@code -inf} (probability 0) contribute 0. No
     * gradient flows into the teacher.
     *
     * @param studentLogits {@code [B, T, V_s]}
     * @param teacherLogits {@code [B, T, V_t]} with {@code V_t ≤ V_s}
     * @param labels int64 {@code [B, T]} (unshifted, see {@link TokenBatch})
     * @param temperature softening temperature {@code T > 0}
     * @return scalar sum over valid positions (divide by the token count for the mean), in float32
     *     (float64 for a float64 student)
     */
    public static NDArray forwardKlSum(NDArray studentLogits, NDArray teacherLogits, NDArray labels, double temperature) {
        checkArgument(temperature > 0 && Double.isFinite(temperature),
                "Cannot set distillation temperature to %s, the value must be positive", temperature);
        long t = studentLogits.getShape().get(1);
        long vs = studentLogits.getShape().get(2);
        long vt = teacherLogits.getShape().get(2);
        checkArgument(studentLogits.getShape().slice(0, 2).equals(teacherLogits.getShape().slice(0, 2)),
                "student logits %s and teacher logits %s must agree in batch and sequence length",
                studentLogits.getShape(), teacherLogits.getShape());
        checkArgument(vt <= vs, "the teacher has %s token ids but the student only %s; the student must cover every"
                + " teacher id (extra trailing student ids are allowed)", vt, vs);
        String positions = ":, 0:" + (t - 1) + ", :";
        DataType dt = studentLogits.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
        // teacher: log p at temperature T, no gradient; -inf (p = 0) clamped so that p · (log p − log q) = 0
        NDArray teacher = teacherLogits.get(positions).stopGradient().toType(dt, false); // (B, T-1, V_t)
        NDArray logp = (temperature == 1 ? teacher : Ops.div(teacher, temperature)).logSoftmax(-1);
        NDArray p = logp.exp();
        NDArray logpSafe = Ops.maximum(logp, -1e30);
        // student: log q at temperature T over its full vocabulary, then the teacher's ids
        NDArray student = studentLogits.get(positions);
        NDArray logq = (temperature == 1 ? student : Ops.div(student, temperature)).logSoftmax(-1);
        if (vs > vt) {
            logq = logq.get("..., 0:" + vt);
        }
        NDArray kl = p.mul(logpSafe.sub(logq.toType(dt, false))).sum(new int[] {-1}); // (B, T-1)
        NDArray valid = Ops.neq(labels.get(":, 1:"), TokenBatch.IGNORE).toType(dt, false);
        NDArray sum = kl.mul(valid).sum();
        return temperature == 1 ? sum : Ops.mul(sum, temperature * temperature);
    }
}
