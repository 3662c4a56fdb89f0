package dev.understudy.ops.surgery;

import java.util.List;

/**
 * Where a transformer keeps its blocks' tensors (in the on-disk Hugging Face layout), so that
 * surgery (FFN pruning, layer dropping, plug-in) is written once for every architecture. {@link
 * DecoderLayouts#of} covers the decoders; an encoder (BERT: {@code intermediate.dense} rows and
 * {@code output.dense} columns) implements the same three methods.
 */
public interface BlockLayout {
    /** Number of blocks. */
    int numLayers();

    /** The name prefix every tensor of block {@code layer} starts with, e.g. {@code model.layers.3.}. */
    String layerPrefix(int layer);

    /** FFN width (number of neurons) of block {@code layer}. */
    int ffnWidth(int layer);

    /**
     * The tensors of block {@code layer}'s FFN that have one slice per neuron, with the axis that
     * indexes neurons. Slicing them all at the same indices removes those neurons exactly; every
     * other tensor of the block (attention, norms, the output bias) is independent of the neuron
     * set.
     */
    List<NeuronAxis> ffnTensors(int layer);

    /**
     * One per-neuron tensor of an FFN.
     *
     * @param tensor full tensor name
     * @param axis the axis indexing neurons (0: rows, 1: columns of a 2-D weight; 0 for a bias)
     * @param weight whether it is a weight matrix (counted by the FedPFT saliency) or a bias
     * @param output whether it is the FFN's output (down) projection, whose neuron slice maps a
     *     neuron's activation into the residual stream
     */
    record NeuronAxis(String tensor, int axis, boolean weight, boolean output) {}
}
