package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.Ops;
import java.util.List;

/** Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients of {@code params} in place by {@code min(1, maxNorm / (norm + 1e-6))}
     * when {@code maxNorm > 0}.
     *
     * @return the global gradient norm before clipping
     */
    public static double clipByGlobalNorm(List<NDArray> params, double maxNorm) {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            double sumSq = 0;
            for (NDArray p : params) {
                try (NDArray g = p.getGradient();
                        NDArray g64 = g.toType(ai.djl.ndarray.types.DataType.FLOAT64, true);
                        NDArray sq = g64.square();
                        NDArray s = sq.sum()) {
                    sumSq += s.getDouble();
                }
            }
            double norm = Math.sqrt(sumSq);
            if (maxNorm > 0 && norm > maxNorm) {
                double coef = maxNorm / (norm + 1e-6);
                for (NDArray p : params) {
                    try (NDArray g = p.getGradient()) {
                        Ops.muli(g, coef);
                    }
                }
            }
            return norm;
        } finally {
            Ops.setGradMode(grad);
        }
    }
}
