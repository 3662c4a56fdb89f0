package dev.understudy.job.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** FedPT's {@code expert: client_updates} bookkeeping, against hand-computed vectors. */
class FedPtExpertTest {

    @Test
    void withoutAnOffsetTheExpertIsTheGlobalAdapterItself() {
        float[] g = {1f, 2f};
        assertThat(FedPt.expert(g, null)).isSameAs(g);
    }

    @Test
    void theOffsetTakesTheDistillationsDisplacementsBackOut() {
        // round 1 from θ̄_0 = (0, 0): clients move to agg_1 = (1, 2); distillation moves it to (3, 1)
        float[] o1 = FedPt.nextExpertOffset(null, new float[] {1f, 2f}, new float[] {3f, 1f});
        assertThat(o1).containsExactly(-2f, 1f);
        assertThat(FedPt.expert(new float[] {3f, 1f}, o1)).containsExactly(1f, 2f); // = agg_1
        // round 2 from (3, 1): clients add (0.5, 0.5) → agg_2 = (3.5, 1.5); distilled to (4, 0)
        float[] agg2 = {3.5f, 1.5f};
        assertThat(FedPt.expert(agg2, o1)).containsExactly(1.5f, 2.5f); // θ̄_0 + (1, 2) + (0.5, 0.5)
        float[] o2 = FedPt.nextExpertOffset(o1, agg2, new float[] {4f, 0f});
        assertThat(o2).containsExactly(-2.5f, 2.5f);
        assertThat(FedPt.expert(new float[] {4f, 0f}, o2)).containsExactly(1.5f, 2.5f);
    }

    @Test
    void anOffsetOfAnotherLayoutIsRejected() {
        assertThatThrownBy(() -> FedPt.expert(new float[3], new float[2])).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("2 values").hasMessageContaining("3");
    }
}
