package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@link Compress} builds: a derived model of {@code model} written to {@code output}, by layer
 * dropping and/or FFN pruning (dropping first), optionally distilled on a public text file. The
 * YAML keys are the snake_case names of these components ({@code understudy compress}).
 *
 * @param model parent model directory (Hugging Face layout)
 * @param tokenizer directory with tokenizer.json; "" = {@code model}, else {@code model/../tokenizer}
 *     (a pretrained family's layout)
 * @param output directory the derived model is written to
 * @param overwrite replace an existing derived model in {@code output}
 * @param drop layer dropping
 * @param prune FFN neuron pruning
 * @param data the public text (calibration for BI and activation saliency, distillation, held-out
 *     perplexity)
 * @param distill representation distillation of the derived model towards the parent
 * @param seed root of the distillation's randomness (data order)
 */
public record CompressSpec(String model, String tokenizer, String output, boolean overwrite, Drop drop, Prune prune,
        Data data, Distill distill, long seed) {
    public CompressSpec {
        checkArgument(model != null && !model.isBlank(), "Missing required key model: the parent model directory");
        checkArgument(output != null && !output.isBlank(), "Missing required key output: where to write the derived model");
        checkArgument(drop.method() != DropMethod.NONE || prune.saliency() != PruneSaliency.NONE,
                "Nothing to do: set drop.method (uniform or bi) and/or prune.saliency (weight or activation)");
        boolean needsText = drop.method() == DropMethod.BI || prune.saliency() == PruneSaliency.ACTIVATION
                || distill.steps() > 0;
        checkArgument(!needsText || !data.text().isBlank(), "Missing data.text: %s needs a public text file",
                drop.method() == DropMethod.BI ? "drop.method=bi" : prune.saliency() == PruneSaliency.ACTIVATION
                        ? "prune.saliency=activation" : "distill.steps > 0");
    }

    /** How layers are dropped. */
    public enum DropMethod { NONE, UNIFORM, BI }

    /** FFN neuron saliency. */
    public enum PruneSaliency { NONE, WEIGHT, ACTIVATION }

    /**
     * @param method none, uniform (Offsite-Tuning's emulator: keep {@code bottom} and {@code top}
     *     layers, drop the middle by uniform stride) or bi (ShortGPT/FedProxy: drop the lowest
     *     Block Influence blocks)
     * @param keepLayers layers the derived model has (≥ 1)
     * @param bottom (uniform) first layers always kept
     * @param top (uniform) last layers always kept
     * @param exemptLayers (bi) layers never dropped: indices, {@code first} or {@code last}
     */
    public record Drop(DropMethod method, int keepLayers, int bottom, int top, List<String> exemptLayers) {
        public Drop {
            checkArgument(method == DropMethod.NONE || keepLayers >= 1, "Cannot set drop.keep_layers to %s: must be ≥ 1",
                    keepLayers);
            checkArgument(bottom >= 0 && top >= 0, "drop.bottom and drop.top must be ≥ 0, got %s and %s", bottom, top);
            exemptLayers = List.copyOf(exemptLayers);
        }
    }

    /**
     * @param saliency none, weight (FedPFT: L2 norm of a neuron's input and output weights) or
     *     activation (ours: RMS activation on data.text × output-column norm)
     * @param keepFraction share of each pruned layer's FFN neurons kept, in (0, 1]
     * @param exemptLayers layers not pruned (FedPFT keeps the first and last): indices, {@code first}
     *     or {@code last}
     */
    public record Prune(PruneSaliency saliency, double keepFraction, List<String> exemptLayers) {
        public Prune {
            checkArgument(keepFraction > 0 && keepFraction <= 1,
                    "Cannot set prune.keep_fraction to %s: must be in (0, 1]", keepFraction);
            exemptLayers = List.copyOf(exemptLayers);
        }
    }

    /**
     * @param text a UTF-8 text file (public data: never client data); "" for none
     * @param seqLen tokens per block; the text is tokenised once and cut into blocks
     * @param heldoutFraction the last blocks, this share of them, are held out for perplexity
     * @param maxBlocks at most this many training blocks (0 = all)
     */
    public record Data(String text, int seqLen, double heldoutFraction, int maxBlocks) {
        public Data {
            checkArgument(seqLen >= 2, "Cannot set data.seq_len to %s: must be ≥ 2", seqLen);
            checkArgument(heldoutFraction > 0 && heldoutFraction < 1,
                    "Cannot set data.heldout_fraction to %s: must be in (0, 1)", heldoutFraction);
            checkArgument(maxBlocks >= 0, "Cannot set data.max_blocks to %s: must be ≥ 0", maxBlocks);
        }
    }

    /**
     * @param steps optimiser steps (0 = no distillation)
     * @param lr peak AdamW learning rate (cosine decay to 10 % after 5 % warm-up)
     * @param batchSize blocks per step
     * @param kdWeight weight of the mean per-layer ℓ_nmse (methods.md §0.2)
     * @param lmWeight weight of the student's LM cross-entropy
     * @param train what is trained: ffn (the derived model's FFNs of pruned layers, or of every
     *     layer after a drop) or all (every block)
     */
    public record Distill(int steps, double lr, int batchSize, double kdWeight, double lmWeight, String train) {
        public Distill {
            checkArgument(steps >= 0, "Cannot set distill.steps to %s: must be ≥ 0", steps);
            checkArgument(lr > 0, "Cannot set distill.lr to %s: must be > 0", lr);
            checkArgument(batchSize >= 1, "Cannot set distill.batch_size to %s: must be ≥ 1", batchSize);
            checkArgument(List.of("ffn", "all").contains(train),
                    "Cannot set distill.train to '%s': use ffn or all", train);
        }
    }

    /** Layer indices of {@code spec} ({@code first}, {@code last} or an index) for a model of {@code layers}. */
    static List<Integer> layers(List<String> spec, int layers, String key) {
        List<Integer> out = new ArrayList<>();
        for (String s : spec) {
            String v = s.trim().toLowerCase(Locale.ROOT);
            int i;
            if (v.equals("first")) {
                i = 0;
            } else if (v.equals("last")) {
                i = layers - 1;
            } else {
                try {
                    i = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("Cannot read " + key + " entry '" + s
                            + "': use a layer index, first or last");
                }
            }
            checkArgument(i >= 0 && i < layers, "%s entry %s is outside the model's layers 0..%s", key, s, layers - 1);
            out.add(i);
        }
        return out;
    }
}
