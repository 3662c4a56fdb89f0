package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@link ParameterLayout} of a global vector with what each tensor is: a LoRA {@code A} or
 * {@code B} factor (and of which module, in which layer), or a dense tensor (a full weight, a
 * classifier head). Strategies whose rule needs the structure (exact-product aggregation of
 * {@code B·A}, per-tensor trimming, sharing only {@code B}) read it from here instead of parsing
 * names.
 *
 * <p>Roles come from the names the adapters use: {@code <module>.lora_A} / {@code <module>.lora_B}
 * (PEFT's convention, {@code LoraAdapter}); everything else is {@link Role#DENSE}. The layer is the
 * integer after {@code layers.} or {@code h.} in the module path (LLaMA / GPT-2 names), else −1.
 *
 * @param tensors one entry per tensor, in vector order
 */
public record AdapterLayout(List<Tensor> tensors) implements Serializable {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|layer)\\.(\\d+)(?:\\.|$)");

    /** What a tensor of the global vector is. */
    public enum Role {
        LORA_A,
        LORA_B,
        DENSE
    }

    /**
     * One tensor of the vector.
     *
     * @param name tensor name, e.g. {@code model.layers.0.self_attn.q_proj.lora_A}
     * @param shape its shape
     * @param offset start in the flattened vector
     * @param size number of elements
     * @param role LoRA factor or dense
     * @param module the module the tensor belongs to ({@code model.layers.0.self_attn.q_proj}; the
     *     name itself for a dense tensor)
     * @param layer decoder layer index, or −1 when the name has none
     */
    public record Tensor(String name, long[] shape, int offset, int size, Role role, String module, int layer)
            implements Serializable {
        /** The module's last name component, e.g. {@code q_proj}. */
        public String target() {
            int dot = module.lastIndexOf('.');
            return dot < 0 ? module : module.substring(dot + 1);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape) + "@" + offset + " " + role;
        }
    }

    public AdapterLayout {
        checkNotNull(tensors, "tensors");
        tensors = List.copyOf(tensors);
    }

    /** The layout of tensors named and shaped as {@code shapes} (in its iteration order). */
    public static AdapterLayout of(Map<String, long[]> shapes) {
        List<Tensor> out = new ArrayList<>(shapes.size());
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            long n = 1;
            for (long d : e.getValue()) {
                checkArgument(d > 0, "Tensor %s has shape %s: every dimension must be positive", name,
                        Arrays.toString(e.getValue()));
                n = Math.multiplyExact(n, d);
            }
            checkArgument(offset + n <= Integer.MAX_VALUE,
                    "The adapter layout holds more than %s elements (at tensor %s); one float[] cannot hold it",
                    Integer.MAX_VALUE, name);
            Role role = name.endsWith(".lora_A") ? Role.LORA_A : name.endsWith(".lora_B") ? Role.LORA_B : Role.DENSE;
            String module = role == Role.DENSE ? name : name.substring(0, name.length() - ".lora_A".length());
            Matcher m = LAYER.matcher(module);
            int layer = m.find() ? Integer.parseInt(m.group(1)) : -1;
            out.add(new Tensor(name, e.getValue().clone(), (int) offset, (int) n, role, module, layer));
            offset += n;
        }
        return new AdapterLayout(out);
    }

    /** Length of the flattened vector. */
    public int size() {
        return tensors.isEmpty() ? 0 : tensors.get(tensors.size() - 1).offset() + tensors.get(tensors.size() - 1).size();
    }

    /** The tensor called {@code name}, or null. */
    public Tensor tensor(String name) {
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The other factor of a LoRA tensor's pair ({@code A} ↔ {@code B} of the same module); null for a dense tensor. */
    public Tensor pairOf(Tensor t) {
        return switch (t.role()) {
            case LORA_A -> tensor(t.module() + ".lora_B");
            case LORA_B -> tensor(t.module() + ".lora_A");
            case DENSE -> null;
        };
    }

    /** The tensors with role {@code role}, in vector order. */
    public List<Tensor> withRole(Role role) {
        return tensors.stream().filter(t -> t.role() == role).toList();
    }

    /** The same tensors as a plain {@link ParameterLayout}. */
    public ParameterLayout parameters() {
        return new ParameterLayout(tensors.stream().map(Tensor::name).toList(),
                tensors.stream().map(Tensor::shape).toList());
    }

    /** Name → shape, in vector order. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        tensors.forEach(t -> out.put(t.name(), t.shape().clone()));
        return out;
    }
}
