package dev.understudy.partition;

import java.util.List;
import java.util.Map;

/**
 * Configuration of one partitioner, chosen by the {@code partitioning.type} key. Each record
 * validates itself in its compact constructor; errors name the YAML key and the value, e.g.
 * "Cannot set partitioning.alpha to -1.0: the value must be &gt; 0 and finite". Data-dependent
 * limits (more clients than rows, more labels per client than labels) are checked when the plan is
 * built, by {@link Partitioner#plan}.
 *
 * <pre>
 *   PartitionerConfig c = PartitionerConfig.fromMap(Map.of("type", "pathological", "num_clients", 100,
 *           "labels_per_client", 2, "seed", 7));
 *   PartitionPlan plan = c.create().plan(counts);
 * </pre>
 */
public sealed interface PartitionerConfig
        permits IidConfig, DirichletConfig, PathologicalConfig, SizeConfig, NaturalIdConfig,
                GroupedNaturalIdConfig, InnerDirichletConfig, GroupedDirichletConfig {

    /** The recognised {@code partitioning.type} values. */
    List<String> TYPES = List.of(IidConfig.TYPE, DirichletConfig.TYPE, PathologicalConfig.TYPE, SizeConfig.TYPE,
            NaturalIdConfig.TYPE, GroupedNaturalIdConfig.TYPE, InnerDirichletConfig.TYPE, GroupedDirichletConfig.TYPE);

    /** The {@code partitioning.type} value. */
    String type();

    long seed();

    /** The parameters as snake_case keys (without {@code type} and {@code seed}), for plans and manifests. */
    Map<String, Object> parameters();

    Partitioner create();

    /**
     * Parses the partitioner keys of a {@code partitioning} section (values may be numbers, booleans,
     * lists or strings, as YAML or {@code --set key=value} give them). Keys of the section that
     * belong to {@link PartitioningConfig} (eval_fraction, ...) are ignored here; any other key
     * unknown to the type is an error.
     */
    static PartitionerConfig fromMap(Map<String, ?> section) {
        return ConfigValues.parsePartitioner(new ConfigValues(section));
    }
}
