package dev.understudy.ops.distill;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.surgery.Derivation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which hidden states representation distillation matches between a teacher and a student
 * (methods.md §0.2, §2(a) Step B, §4(a)). Two kinds:
 *
 * <ul>
 *   <li>{@link LayerPairs}: the output of teacher block {@code t_i} against the output of student
 *       block {@code s_i}, each model running its own full forward (FedPFT's layer-level
 *       distillation, FedProxy's Stage 1). Following transformers' {@code output_hidden_states},
 *       the output of a model's <em>last</em> block is taken after the final norm.
 *   <li>{@link BlockRange}: Offsite-Tuning's {@code ℓ_nmse(M(h), E(h))}: {@code h} is the student's
 *       input to block {@code studentFrom} (the output of the frozen bottom adapter), {@code E(h)} the
 *       student's output of block {@code studentTo − 1}, and {@code M(h)} the teacher's blocks {@code
 *       [teacherFrom, teacherTo)} run on the same {@code h} (before any final norm).
 * </ul>
 */
public sealed interface Alignment {
    /** Matched pairs of block outputs: {@code teacherLayers[i]} ↔ {@code studentLayers[i]} (0-based). */
    record LayerPairs(int[] teacherLayers, int[] studentLayers) implements Alignment {
        public LayerPairs {
            checkArgument(teacherLayers.length == studentLayers.length && teacherLayers.length > 0,
                    "layer pairs need as many teacher as student layers, at least one (got %s and %s)",
                    teacherLayers.length, studentLayers.length);
            teacherLayers = teacherLayers.clone();
            studentLayers = studentLayers.clone();
        }

        @Override
        public String toString() {
            return "layers " + Arrays.toString(teacherLayers) + " -> " + Arrays.toString(studentLayers);
        }
    }

    /** {@code M(h)} = teacher blocks {@code [teacherFrom, teacherTo)} vs {@code E(h)} = student blocks {@code [studentFrom, studentTo)}. */
    record BlockRange(int teacherFrom, int teacherTo, int studentFrom, int studentTo) implements Alignment {
        public BlockRange {
            checkArgument(0 <= teacherFrom && teacherFrom < teacherTo && 0 <= studentFrom && studentFrom < studentTo,
                    "block ranges [%s, %s) and [%s, %s) must be non-empty", teacherFrom, teacherTo, studentFrom,
                    studentTo);
        }
    }

    /**
     * Every derived block against the parent block it came from ({@code j ↔ layerMap[j]}); with
     * {@code prunedOnly}, only the blocks whose FFN was pruned (FedPFT's set {@code C}), or every
     * block when none was.
     */
    static LayerPairs fromDerivation(Derivation d, boolean prunedOnly) {
        List<Integer> js = new ArrayList<>();
        for (int j = 0; j < d.layerMap().length; j++) {
            if (!prunedOnly || d.isPruned(j)) {
                js.add(j);
            }
        }
        if (js.isEmpty()) {
            for (int j = 0; j < d.layerMap().length; j++) {
                js.add(j);
            }
        }
        int[] t = new int[js.size()];
        int[] s = new int[js.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = js.get(i);
            t[i] = d.parentLayer(s[i]);
        }
        return new LayerPairs(t, s);
    }

    /**
     * Offsite-Tuning's emulator alignment for a derivation that kept the bottom {@code bottom} and
     * top {@code top} parent blocks unchanged: {@code M} = parent blocks {@code [bottom, L − top)},
     * {@code E} = derived blocks {@code [bottom, n − top)}.
     */
    static BlockRange emulator(Derivation d, int bottom, int top) {
        int n = d.layerMap().length;
        int parentLayers = d.parentLayers();
        checkArgument(bottom >= 0 && top >= 0 && bottom + top < n, "emulator %s-?-%s of a %s-layer derived model",
                bottom, top, n);
        for (int j = 0; j < bottom; j++) {
            checkArgument(d.parentLayer(j) == j, "derived block %s is not parent block %s: not a bottom adapter", j, j);
        }
        for (int j = 0; j < top; j++) {
            checkArgument(d.parentLayer(n - 1 - j) == parentLayers - 1 - j,
                    "derived block %s is not parent block %s: not a top adapter", n - 1 - j, parentLayers - 1 - j);
        }
        return new BlockRange(bottom, parentLayers - top, bottom, n - top);
    }
}
