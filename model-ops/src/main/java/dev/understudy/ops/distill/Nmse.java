package dev.understudy.ops.distill;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.Ops;

/**
 * Normalised hidden-state MSE, the "KD loss" of Offsite-Tuning, FedPFT and FedBiOT (methods.md
 * §0.2):
 *
 * <pre>
 *   ℓ_nmse(H_T, H_S) = mean((H_T − H_S)²) / mean(H_T²) = ‖H_T − H_S‖² / ‖H_T‖²
 * </pre>
 *
 * one global scalar over the whole {@code [B, T, d]} batch tensor, not per token. With a mask, both
 * sums run over the valid tokens only (padding positions are not text); without one this is
 * exactly the reference formula. The gradient w.r.t. the student is {@code −2 (H_T − H_S) /
 * ‖H_T‖²}; the teacher is treated as a constant (detach it, or compute it without autograd).
 */
public final class Nmse {
    private Nmse() {}

    /**
     * @param teacher {@code [B, T, d]}
     * @param student {@code [B, T, d]}, with its autograd graph
     * @param mask {@code [B, T]} with 1 for real tokens, or null
     */
    public static NDArray loss(NDArray teacher, NDArray student, NDArray mask) {
        NDArray t = teacher.stopGradient();
        NDArray diff = t.sub(student).square();
        NDArray ref = t.square();
        if (mask != null) {
            NDArray w = mask.toType(student.getDataType(), false).expandDims(-1);
            diff = diff.mul(w);
            ref = ref.mul(w);
        }
        return diff.sum().div(Ops.maximum(ref.sum(), Double.MIN_NORMAL));
    }
}
