package dev.understudy.job.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * An experiment grid ({@code grid.yaml}): named methods × named configs × parameter values × seeds,
 * each cell an ordinary run configured by {@code conf} files and {@code --set} overrides.
 *
 * <pre>
 * output: /experiments/lr-sweep      # root: cells/, grid.jsonl, results.parquet, results.md, report/
 * conf: [conf/quickstart.yaml]       # applied to every cell, after conf/defaults.yaml
 * set: {server.rounds: 5}            # overrides for every cell
 * methods:                           # name -> overrides
 *   fedavg: {server.strategy: fedavg}
 *   fedprox: {server.strategy: fedprox, server.strategy_params: {proximal_mu: 0.01}}
 * configs:                           # optional: name -> overrides (datasets, splits, models)
 *   dir03: {partitioning.alpha: 0.3}
 * params:                            # optional: key -> values, every combination
 *   client.lr: [0.01, 0.02]
 * seeds: [1, 2, 3]
 * </pre>
 */
public record Grid(String output, List<String> conf, Map<String, Object> set, Map<String, Map<String, Object>> methods,
        Map<String, Map<String, Object>> configs, Map<String, List<Object>> params, List<Long> seeds) {

    static final Set<String> KEYS = Set.of("output", "conf", "set", "methods", "configs", "params", "seeds");

    /** One cell: its id (also its directory name under {@code cells/}) and the overrides that make it. */
    public record Cell(String id, String method, String config, Map<String, Object> params, long seed, List<String> sets) {
        /** The cell's group over seeds (its id without the seed). */
        public String group() {
            return id.replaceAll(",seed=[^,]*$", "");
        }
    }

    /** Parses {@code yaml}; {@code source} names the file in errors. */
    @SuppressWarnings("unchecked")
    public static Grid parse(String yaml, String source) {
        Object o = new Yaml(new LoaderOptions()).load(yaml);
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(source + ": a grid is a YAML map with keys " + KEYS);
        }
        for (Object k : m.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new IllegalArgumentException(source + ": unknown key '" + k + "' (a grid has " + KEYS + ")");
            }
        }
        String output = m.get("output") == null ? null : String.valueOf(m.get("output"));
        List<String> conf = new ArrayList<>();
        if (m.get("conf") instanceof List<?> l) {
            l.forEach(x -> conf.add(String.valueOf(x)));
        } else if (m.get("conf") != null) {
            conf.add(String.valueOf(m.get("conf")));
        }
        Map<String, Object> set = map(m.get("set"), source, "set");
        Map<String, Map<String, Object>> methods = named(m.get("methods"), source, "methods");
        if (methods.isEmpty()) {
            throw new IllegalArgumentException(source + ": 'methods' needs at least one entry, e.g. methods: {fedavg: {}}");
        }
        Map<String, Map<String, Object>> configs = named(m.get("configs"), source, "configs");
        Map<String, List<Object>> params = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(m.get("params"), source, "params").entrySet()) {
            if (!(e.getValue() instanceof List<?> values) || values.isEmpty()) {
                throw new IllegalArgumentException(source + ": params." + e.getKey() + " must be a non-empty list of values");
            }
            params.put(e.getKey(), new ArrayList<>(values));
        }
        List<Long> seeds = new ArrayList<>();
        if (!(m.get("seeds") instanceof List<?> sl) || sl.isEmpty()) {
            throw new IllegalArgumentException(source + ": 'seeds' must be a non-empty list, e.g. seeds: [1, 2, 3]");
        }
        for (Object s : sl) {
            if (!(s instanceof Number n)) {
                throw new IllegalArgumentException(source + ": seeds must be integers, found '" + s + "'");
            }
            seeds.add(n.longValue());
        }
        return new Grid(output, List.copyOf(conf), set, methods, configs, params, List.copyOf(seeds));
    }

    /** Every cell, in a fixed order: methods, then configs, then parameter combinations, then seeds. */
    public List<Cell> cells() {
        List<Map<String, Object>> combos = new ArrayList<>();
        combos.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<Object>> p : params.entrySet()) {
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> c : combos) {
                for (Object v : p.getValue()) {
                    Map<String, Object> n = new LinkedHashMap<>(c);
                    n.put(p.getKey(), v);
                    next.add(n);
                }
            }
            combos = next;
        }
        Map<String, Map<String, Object>> cfgs = configs.isEmpty() ? Map.of("", Map.of()) : configs;
        List<Cell> cells = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> me : methods.entrySet()) {
            for (Map.Entry<String, Map<String, Object>> ce : cfgs.entrySet()) {
                for (Map<String, Object> combo : combos) {
                    for (long seed : seeds) {
                        StringBuilder id = new StringBuilder("method=" + me.getKey());
                        if (!ce.getKey().isEmpty()) {
                            id.append(",config=").append(ce.getKey());
                        }
                        combo.forEach((k, v) -> id.append(',').append(k).append('=').append(v));
                        id.append(",seed=").append(seed);
                        List<String> sets = new ArrayList<>();
                        set.forEach((k, v) -> sets.add(k + "=" + flow(v)));
                        me.getValue().forEach((k, v) -> sets.add(k + "=" + flow(v)));
                        ce.getValue().forEach((k, v) -> sets.add(k + "=" + flow(v)));
                        combo.forEach((k, v) -> sets.add(k + "=" + flow(v)));
                        sets.add("seed=" + seed);
                        cells.add(new Cell(id.toString().replaceAll("[^A-Za-z0-9._=,+-]", "_"), me.getKey(), ce.getKey(),
                                Map.copyOf(combo), seed, List.copyOf(sets)));
                    }
                }
            }
        }
        return cells;
    }

    /** A value as a {@code --set} right-hand side (YAML flow style for maps and lists). */
    static String flow(Object v) {
        if (v instanceof Map<?, ?> || v instanceof List<?>) {
            DumperOptions o = new DumperOptions();
            o.setDefaultFlowStyle(DumperOptions.FlowStyle.FLOW);
            o.setWidth(Integer.MAX_VALUE);
            return new Yaml(o).dump(v).trim();
        }
        return String.valueOf(v);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String source, String key) {
        if (o == null) {
            return new LinkedHashMap<>();
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(source + ": '" + key + "' must be a map of key: value");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static Map<String, Map<String, Object>> named(Object o, String source, String key) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(o, source, key).entrySet()) {
            out.put(e.getKey(), map(e.getValue(), source, key + "." + e.getKey()));
        }
        return out;
    }
}
