package dev.understudy.partition;

import java.util.Locale;
import java.util.Map;

/**
 * Quantity skew: client sizes follow a power law or a log-normal distribution, labels are IID within
 * each client.
 *
 * @param numClients {@code partitioning.num_clients}, &gt; 0
 * @param distribution {@code partitioning.distribution}: {@code power_law} or {@code log_normal}
 * @param exponent {@code partitioning.exponent}, ≥ 0 (power law): the client of size rank r gets
 *     weight (r + 1)^-exponent; 0 means equal sizes
 * @param sigma {@code partitioning.sigma}, ≥ 0 (log-normal): weights are exp(σ·Z), Z standard normal
 * @param minSize {@code partitioning.min_size}, ≥ 1: every client gets at least this many rows
 * @param seed {@code partitioning.seed}
 */
public record SizeConfig(int numClients, Distribution distribution, double exponent, double sigma, int minSize, long seed)
        implements PartitionerConfig {

    public static final String TYPE = "size";

    /** Client size distribution. */
    public enum Distribution {
        POWER_LAW,
        LOG_NORMAL;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Distribution parse(String value) {
            for (Distribution d : values()) {
                if (d.jsonName().equals(value)) {
                    return d;
                }
            }
            throw new IllegalArgumentException(Checks.message("distribution", value, "power_law or log_normal"));
        }
    }

    public SizeConfig {
        Checks.positive("num_clients", numClients);
        Checks.check(distribution != null, "distribution", null, "power_law or log_normal");
        Checks.nonNegative("exponent", exponent);
        Checks.nonNegative("sigma", sigma);
        Checks.check(minSize >= 1, "min_size", minSize, ">= 1 (every client needs a row)");
    }

    public static SizeConfig powerLaw(int numClients, double exponent, int minSize, long seed) {
        return new SizeConfig(numClients, Distribution.POWER_LAW, exponent, 0, minSize, seed);
    }

    public static SizeConfig logNormal(int numClients, double sigma, int minSize, long seed) {
        return new SizeConfig(numClients, Distribution.LOG_NORMAL, 0, sigma, minSize, seed);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return distribution == Distribution.POWER_LAW
                ? Map.of("num_clients", numClients, "distribution", distribution.jsonName(), "exponent", exponent,
                        "min_size", minSize)
                : Map.of("num_clients", numClients, "distribution", distribution.jsonName(), "sigma", sigma,
                        "min_size", minSize);
    }

    @Override
    public Partitioner create() {
        return new SizePartitioner(this);
    }
}
