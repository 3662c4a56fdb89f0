package dev.understudy.ops.surgery;

import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.ModelConfig.Family;
import java.util.ArrayList;
import java.util.List;

/** {@link BlockLayout}s of the decoder families {@link dev.understudy.ops.model.DecoderModel} supports. */
public final class DecoderLayouts {
    private DecoderLayouts() {}

    /**
     * The layout of {@code config}'s checkpoint tensors:
     *
     * <ul>
     *   <li>LLaMA family (SwiGLU): {@code gate_proj.weight [N, d]} and {@code up_proj.weight [N, d]}
     *       rows, {@code down_proj.weight [d, N]} columns, plus the gate/up biases with {@code
     *       mlp_bias};
     *   <li>GPT-2 (Conv1D {@code [in, out]} on disk): {@code c_fc.weight [d, N]} columns, {@code
     *       c_fc.bias [N]}, {@code c_proj.weight [N, d]} rows.
     * </ul>
     */
    public static BlockLayout of(ModelConfig config) {
        boolean llama = config.family() == Family.LLAMA;
        return new BlockLayout() {
            @Override
            public int numLayers() {
                return config.numLayers();
            }

            @Override
            public String layerPrefix(int layer) {
                return (llama ? "model.layers." : "transformer.h.") + layer + ".";
            }

            @Override
            public int ffnWidth(int layer) {
                return config.intermediateSize(layer);
            }

            @Override
            public List<NeuronAxis> ffnTensors(int layer) {
                String p = layerPrefix(layer);
                List<NeuronAxis> out = new ArrayList<>();
                if (llama) {
                    out.add(new NeuronAxis(p + "mlp.gate_proj.weight", 0, true, false));
                    out.add(new NeuronAxis(p + "mlp.up_proj.weight", 0, true, false));
                    out.add(new NeuronAxis(p + "mlp.down_proj.weight", 1, true, true));
                    if (config.mlpBias()) {
                        out.add(new NeuronAxis(p + "mlp.gate_proj.bias", 0, false, false));
                        out.add(new NeuronAxis(p + "mlp.up_proj.bias", 0, false, false));
                    }
                } else {
                    out.add(new NeuronAxis(p + "mlp.c_fc.weight", 1, true, false));
                    out.add(new NeuronAxis(p + "mlp.c_fc.bias", 0, false, false));
                    out.add(new NeuronAxis(p + "mlp.c_proj.weight", 0, true, true));
                }
                return out;
            }
        };
    }
}
