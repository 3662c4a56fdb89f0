package dev.understudy.partition;

/**
 * One client per distinct value of a column (domain, author, user, ...). Client ids follow the
 * values in {@link RowOrder#KEY_ORDER}: the i-th smallest value is client i.
 *
 * <p>The plan is a value → client mapping ({@link PartitionPlan#mapping()}) that is built once and
 * reused: the train/eval split and any later data set (a test set) are assigned through the same
 * plan, so they cannot end up with different ids. Flower's NaturalIdPartitioner numbered the values
 * of each split separately, so train and test disagreed whenever their value sets differed
 * (flwrlabs/flower#5243). Values a later data set has that the plan has not seen are {@link
 * PartitionPlan#UNASSIGNED}.
 */
public final class NaturalIdPartitioner implements Partitioner {

    private final NaturalIdConfig config;

    public NaturalIdPartitioner(NaturalIdConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return NaturalIdConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.NATURAL_ID;
    }

    @Override
    public NaturalIdConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        if (counts.size() == 0) {
            throw new InfeasiblePartitioningException("Column '" + config.idColumn() + "' (partitioning.id_column)"
                    + " has no values, so there are no clients");
        }
        PartitionPlan.Builder b = PartitionPlan.builder(config.type(), config.parameters(), config.seed(),
                Stratification.NATURAL_ID, counts.size());
        for (int s = 0; s < counts.size(); s++) {
            b.stratum(counts.strata().get(s), new int[] {s}, new long[] {counts.count(s)});
        }
        return b.build();
    }
}
