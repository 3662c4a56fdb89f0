package dev.understudy.job;

import com.google.gson.Gson;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The configuration a {@code resume} runs with: the one committed with the run, plus the changes
 * the resume may make.
 *
 * <p>A resumed run must give the result the run would have given uninterrupted, so everything that
 * shapes that result (data, split, model, method, client training, strategy, seed) comes from the
 * committed configuration. The keys in {@link #MAY_CHANGE} do not change what the committed rounds
 * were and take effect when given: {@code server.rounds} (extend, or finish early at a committed
 * round or later; with a decaying {@code client.schedule} the rounds from now on follow the
 * schedule over the new total), {@code server.eval_every}, {@code output.keep_rounds}, {@code
 * output.save_merged}, {@code output.overwrite} (ignored by resume) and {@code output.dir} (a run
 * directory may have been moved). Any other key whose value differs from the committed one is
 * refused, with the list of differences.
 */
public final class ResumeConfig {
    private ResumeConfig() {}

    /** Keys whose new values a resume applies. */
    public static final Set<String> MAY_CHANGE = Set.of("server.rounds", "server.eval_every", "output.keep_rounds",
            "output.save_merged", "output.overwrite", "output.dir");

    private static final Gson GSON = new Gson();

    /**
     * @param saved the configuration committed with the run
     * @param given the configuration of this {@code resume} invocation
     * @param lastCommitted the run's last committed round
     * @throws IllegalArgumentException listing every key that differs and may not change, or when
     *     {@code server.rounds} is below the committed rounds
     */
    public static JobConfig merge(JobConfig saved, JobConfig given, String source, int lastCommitted) {
        Map<String, Object> before = flatten(ConfigLoader.toMap(saved));
        Map<String, Object> now = flatten(ConfigLoader.toMap(given));
        List<String> refused = new ArrayList<>();
        List<String> applied = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        Set<String> keys = new java.util.LinkedHashSet<>(before.keySet());
        keys.addAll(now.keySet()); // e.g. a partitioning type with other parameters
        for (String key : keys) {
            Object old = before.get(key);
            Object value = now.get(key);
            if (Objects.equals(String.valueOf(old), String.valueOf(value))) {
                continue;
            }
            String diff = key + ": " + GSON.toJson(old) + " -> " + GSON.toJson(value);
            if (MAY_CHANGE.contains(key)) {
                applied.add(diff);
                sets.add(key + "=" + GSON.toJson(value));
            } else {
                refused.add(diff);
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("resume refuses to change " + refused.size() + " key" + (refused.size() == 1 ? ""
                    : "s") + " of the committed run (" + String.join("; ", refused) + "); a resume may change only "
                    + new java.util.TreeSet<>(MAY_CHANGE) + ": give the run's own configuration, or start a new run in"
                    + " another output.dir");
        }
        if (given.server().rounds() < lastCommitted) {
            throw new IllegalArgumentException("Cannot resume with server.rounds=" + given.server().rounds() + ": "
                    + lastCommitted + " rounds are already committed in " + given.output().dir());
        }
        if (applied.isEmpty()) {
            return saved;
        }
        System.out.println("resume: applying " + String.join("; ", applied));
        return ConfigLoader.fromYaml(ConfigLoader.toYaml(saved), source, sets);
    }

    /** Dotted keys to leaf values; opaque maps (e.g. {@code method_params}, {@code server.strategy_params}) compared whole. */
    static Map<String, Object> flatten(Map<String, Object> tree) {
        Map<String, Object> out = new LinkedHashMap<>();
        flatten("", tree, out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> tree, Map<String, Object> out) {
        for (Map.Entry<String, Object> e : tree.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m && isSection(key)) {
                flatten(key, (Map<String, Object>) m, out);
            } else {
                out.put(key, e.getValue());
            }
        }
    }

    private static boolean isSection(String key) {
        return Set.of("data", "model", "model.lora", "client", "server", "output", "partitioning").contains(key);
    }
}
