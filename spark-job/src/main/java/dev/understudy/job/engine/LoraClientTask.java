package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.io.IOException;
import java.util.Map;

/**
 * The default client task: a LoRA adapter of the client model ({@code model.lora}), trained on the
 * client's rows with the response-only LM loss and, when set, the FedProx proximal term
 * ({@link LocalLoraTrainFunction#trainLora}); the run's artifact is a PEFT adapter directory.
 */
public class LoraClientTask implements ClientTask {
    private static final long serialVersionUID = 1L;

    public static final String NAME = "lora";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, HostTensor> initialState(DecoderModel clientModel, TrainSettings settings) {
        try (NDManager m = clientModel.manager().newSubManager();
                LoraAdapter init = LoraAdapter.create(clientModel, settings.lora(), settings.seed(), m)) {
            return init.exportTensors();
        }
    }

    @Override
    public ClientResult train(Round r, ClientData data) {
        return LocalLoraTrainFunction.trainLora(r.model(), data, r.attempt(), r.round(), r.global(), r.layout(),
                r.settings());
    }

    @Override
    public void writeFinal(ModelSink sink, DecoderModel clientModel, TrainSettings settings, float[] global,
            Map<String, long[]> layout) throws IOException {
        RoundCheckpoint.writePeft(sink, clientModel, settings, global, layout);
    }
}
