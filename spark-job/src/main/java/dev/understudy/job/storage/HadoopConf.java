package dev.understudy.job.storage;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop settings in a form that travels with a task to the executors.
 *
 * <p>Executors must reach {@code model.base} and {@code output.dir} with the same settings as the
 * driver: an {@code s3a://} endpoint, credentials and path-style access set through {@code
 * spark.hadoop.fs.s3a.*} or on {@code sparkContext().hadoopConfiguration()} at run time, or the
 * name services of an HA {@code hdfs://} cluster. A plain {@code new Configuration()} on an executor
 * sees none of these (it reads only the {@code *-site.xml} files on its classpath), so this keeps
 * the driver configuration's differences from {@code new Configuration()} and replays them on top of
 * a fresh one. Spark ships its own Hadoop configuration to tasks the same way.
 *
 * <p>The settings may hold secrets ({@code fs.s3a.secret.key}): {@link #toString} names the number
 * of settings only, never their values.
 */
public final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;

    private final TreeMap<String, String> overrides;
    private transient Configuration conf;

    private HadoopConf(TreeMap<String, String> overrides) {
        this.overrides = overrides;
    }

    /** No settings beyond the executor's own {@code *-site.xml} files. */
    public static HadoopConf empty() {
        return new HadoopConf(new TreeMap<>());
    }

    /** The settings of {@code conf} that a fresh {@code new Configuration()} lacks or sets differently. */
    public static HadoopConf of(Configuration conf) {
        Configuration defaults = new Configuration();
        TreeMap<String, String> diff = new TreeMap<>();
        for (Map.Entry<String, String> e : conf) {
            // raw values: variables such as ${hadoop.tmp.dir} expand on the executor, as they would there
            String key = e.getKey();
            String value = conf.getRaw(key);
            if (value != null && !value.equals(defaults.getRaw(key))) {
                diff.put(key, value);
            }
        }
        return new HadoopConf(diff);
    }

    /** A Hadoop configuration with these settings applied (built once per deserialised instance). */
    public synchronized Configuration toConfiguration() {
        if (conf == null) {
            Configuration c = new Configuration();
            overrides.forEach(c::set);
            conf = c;
        }
        return conf;
    }

    /** Number of settings carried. */
    public int size() {
        return overrides.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HadoopConf other && overrides.equals(other.overrides);
    }

    @Override
    public int hashCode() {
        return Objects.hash(overrides);
    }

    @Override
    public String toString() {
        return "HadoopConf[" + overrides.size() + " settings]";
    }
}
