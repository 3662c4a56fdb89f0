package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dense and masked trainable sets through the one Trainer path. */
class TrainablesTest {
    static List<Example> data() {
        List<Example> out = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(2);
        for (int i = 0; i < 8; i++) {
            int[] ids = new int[6];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = r.nextInt(32);
            }
            out.add(Example.lm(ids));
        }
        return out;
    }

    @Test
    void maskedTrainingLeavesUnselectedRowsAndColumnsBitIdentical() {
        for (ModelConfig c : List.of(ModelConfig.llama(32, 16, 2, 4, 2, 12, 16), ModelConfig.gpt2(32, 16, 2, 2, 16))) {
            boolean llama = c.family() == ModelConfig.Family.LLAMA;
            String in = llama ? "model.layers.1.mlp.up_proj.weight" : "transformer.h.1.mlp.c_fc.weight";
            String out = llama ? "model.layers.1.mlp.down_proj.weight" : "transformer.h.1.mlp.c_proj.weight";
            int inAxis = llama ? 0 : 1; // on-disk axis of the neuron
            int outAxis = llama ? 1 : 0;
            int[] chosen = {2, 5, 7};
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = DecoderModel.randomInit(c, 3, m, DataType.FLOAT32)) {
                Map<String, HostTensor> before = model.exportTensors();
                String norm = llama ? "model.layers.1.post_attention_layernorm.weight" : "transformer.h.1.ln_2.weight";
                MaskedTrainables set = new MaskedTrainables(model, Map.of(
                        in, new MaskedTrainables.Slice(inAxis, chosen),
                        out, new MaskedTrainables.Slice(outAxis, chosen)), List.of(norm));
                TrainConfig cfg = TrainConfig.simple(1e-2, 4, 1).withWeightDecay(0.1).withClipping(0.5);
                try (Trainer t = new Trainer(model, set, cfg, 0, m, Objective.causalLm())) {
                    t.train(data(), 3);
                }
                set.close();
                Map<String, HostTensor> after = model.exportTensors();
                for (String name : before.keySet()) {
                    float[] b = before.get(name).values();
                    float[] a = after.get(name).values();
                    if (name.equals(in) || name.equals(out)) {
                        int axis = name.equals(in) ? inAxis : outAxis;
                        long[] s = before.get(name).shape();
                        int cols = (int) s[1];
                        int changedSel = 0;
                        for (int i = 0; i < b.length; i++) {
                            int neuron = axis == 0 ? i / cols : i % cols;
                            boolean sel = neuron == 2 || neuron == 5 || neuron == 7;
                            if (sel) {
                                changedSel += a[i] != b[i] ? 1 : 0;
                            } else {
                                assertThat(Float.floatToRawIntBits(a[i])).as("%s[%s]", name, i)
                                        .isEqualTo(Float.floatToRawIntBits(b[i]));
                            }
                        }
                        assertThat(changedSel).as("%s selected entries moved", name).isPositive();
                    } else if (name.equals(norm)) {
                        assertThat(a).isNotEqualTo(b);
                    } else {
                        assertThat(a).as(name).isEqualTo(b);
                    }
                }
            }
        }
    }

    @Test
    void denseTrainingChangesOnlyTheNamedTensorsAndExportsThem() {
        ModelConfig c = ModelConfig.llama(32, 16, 2, 4, 2, 12, 16);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.randomInit(c, 3, m, DataType.FLOAT32)) {
            Map<String, HostTensor> before = model.exportTensors();
            DenseTrainables set = new DenseTrainables(model, DenseTrainables.layers(List.of("model.layers.1.")));
            try (Trainer t = new Trainer(model, set, TrainConfig.simple(1e-2, 4, 1), 0, m, Objective.causalLm())) {
                t.train(data(), 2);
            }
            Map<String, HostTensor> after = model.exportTensors();
            assertThat(set.exportChanged().keySet()).allMatch(n -> n.startsWith("model.layers.1."));
            for (String name : before.keySet()) {
                boolean trained = name.startsWith("model.layers.1.");
                if (!trained) {
                    assertThat(after.get(name).values()).as(name).isEqualTo(before.get(name).values());
                } else if (name.endsWith("proj.weight")) {
                    assertThat(after.get(name).values()).as(name).isNotEqualTo(before.get(name).values());
                }
            }
        }
    }
}
