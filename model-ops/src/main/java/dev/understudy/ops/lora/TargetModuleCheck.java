package dev.understudy.ops.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Which entries of {@code model.lora.target_modules} match a module of the model (PEFT's rule, as
 * {@link LoraConfig#matches}). None matching is an error ({@link LoraAdapter}); some not matching
 * trains fewer modules than the user listed, which deserves a warning naming both sides.
 */
public final class TargetModuleCheck {
    private TargetModuleCheck() {}

    /**
     * A warning naming the entries that match no module and those that do (with how many modules
     * each adapts); null when every entry matches at least one module, or when none does (then
     * {@link LoraAdapter} refuses the configuration).
     *
     * @param moduleNames the full names of the model's linear modules
     */
    public static String partialMatchWarning(List<String> targets, List<String> moduleNames) {
        List<String> matched = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (String t : targets) {
            long n = moduleNames.stream().filter(m -> m.equals(t) || m.endsWith("." + t)).count();
            if (n == 0) {
                unmatched.add(t);
            } else {
                matched.add(t + " (" + n + " modules)");
            }
        }
        if (unmatched.isEmpty() || matched.isEmpty()) {
            return null;
        }
        TreeSet<String> available = new TreeSet<>();
        for (String m : moduleNames) {
            available.add(m.substring(m.lastIndexOf('.') + 1));
        }
        return "warning: model.lora.target_modules entries " + unmatched + " match no module of the model, so they get no"
                + " adapter; matched: " + matched + "; the model's modules: " + available
                + ". Remove the entries or name existing modules";
    }
}
