package dev.understudy.ops.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.understudy.ops.model.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-token forward cost against hand counts. */
class ModelCostTest {
    @Test
    void swigluGqaWithPerLayerWidthsMatchesHandCount() {
        // vocab 32, d 16, 2 layers, 4 heads x 4, 2 KV heads, FFN widths 12 and 4
        ModelConfig c = ModelConfig.llama(32, 16, 2, 4, 2, 12, 16).withIntermediateSizes(List.of(12, 4));
        // per layer: q 16*16 + k,v 2*16*8 + o 16*16 = 768; FFN 3*16*N = 576 and 192; head 16*32 = 512
        long weights = 768 + 576 + 768 + 192 + 512;
        assertThat(ModelCost.matmulWeights(c)).isEqualTo(weights);
        // attention at seq_len 7: ctx 4, 4*4*16 per layer, 2 layers
        assertThat(ModelCost.flopsPerToken(c, 7)).isCloseTo(2.0 * weights + 2 * 4 * 4 * 16, within(1e-9));
    }

    @Test
    void geluFfnCountsTwoMatrices() {
        ModelConfig c = ModelConfig.gpt2(32, 16, 1, 2, 16).withIntermediateSizes(List.of(12));
        assertThat(ModelCost.matmulWeights(c)).isEqualTo(4 * 16 * 16 + 2 * 16 * 12 + 16 * 32);
    }
}
