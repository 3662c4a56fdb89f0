package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Taps see the same tensors the forward computes; block ranges compose to the full forward. */
class ForwardTapTest {
    static List<ModelConfig> configs() {
        return List.of(ModelConfig.llama(32, 16, 3, 4, 2, 24, 16),
                ModelConfig.gpt2(32, 16, 3, 2, 16));
    }

    @Test
    void hiddenStatesFollowTheHuggingFaceConventionAndRangesCompose() {
        for (ModelConfig c : configs()) {
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = DecoderModel.randomInit(c, 9, m, DataType.FLOAT64, 0.2)) {
                NDArray ids = m.create(new long[] {1, 5, 7, 2, 9, 3, 4, 8}, new Shape(2, 4));
                NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 0, 0}, new Shape(2, 4));
                List<NDArray> hs = model.outputHiddenStates(ids, mask, null);
                assertThat(hs).hasSize(c.numLayers() + 1);
                NDArray fin = model.hiddenStates(ids, mask, null, null, null, null);
                assertThat(diff(hs.get(c.numLayers()), fin)).isZero();

                List<NDArray> blocks = new ArrayList<>();
                List<NDArray> acts = new ArrayList<>();
                NDArray[] emb = new NDArray[1];
                ForwardTap tap = new ForwardTap() {
                    @Override
                    public boolean wantsFfnActivation(int layer) {
                        return layer == 1;
                    }

                    @Override
                    public void embeddings(NDArray x) {
                        emb[0] = x;
                    }

                    @Override
                    public void blockOutput(int layer, NDArray x) {
                        blocks.add(x);
                    }

                    @Override
                    public void ffnActivation(int layer, NDArray a) {
                        acts.add(a.duplicate());
                        ai.djl.ndarray.NDScope.unregister(acts.get(acts.size() - 1));
                    }
                };
                NDArray logits = model.forward(ids, mask, null, null, tap);
                assertThat(diff(logits, model.forward(ids, mask, null, null, null, null))).isZero();
                assertThat(blocks).hasSize(c.numLayers());
                assertThat(acts).hasSize(1);
                assertThat(acts.get(0).getShape()).isEqualTo(new Shape(2, 4, c.intermediateSize(1)));
                assertThat(diff(emb[0], hs.get(0))).isZero();
                assertThat(diff(blocks.get(0), hs.get(1))).isZero();
                assertThat(diff(model.finalNorm(blocks.get(c.numLayers() - 1)), fin)).isZero();
                // M(h): blocks [1, L) from block 0's output give the last block's output
                NDArray tail = model.runBlocks(1, c.numLayers(), blocks.get(0), mask, null, null, null);
                assertThat(diff(tail, blocks.get(c.numLayers() - 1))).isLessThan(1e-12);
                NDArray all = model.runBlocks(0, c.numLayers(), emb[0], mask, null, null, null);
                assertThat(diff(all, blocks.get(c.numLayers() - 1))).isLessThan(1e-12);
            }
        }
    }

    static double diff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().toType(DataType.FLOAT64, false).getDouble();
    }
}
