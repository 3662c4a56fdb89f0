package dev.understudy.ops.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;

/**
 * What a LoRA adapter needs to know about the frozen model it adapts: the linear modules it may
 * target, the device and dtype of their weights, and the weights by Hugging Face name (for merging).
 * {@link DecoderModel} and the BERT encoder implement it.
 */
public interface AdaptableModel {
    /** The projections adapters may target, in model order. */
    List<LinearModule> linearModules();

    /** Weights by Hugging Face name, each linear weight as {@code [out, in]}. */
    Map<String, NDArray> parameters();

    Device device();

    DataType dtype();

    /** The Hugging Face {@code model_type}, for messages. */
    String modelType();
}
