package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.bits;
import static dev.understudy.ops.federation.Fixtures.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightedMeanTest {
    @Test
    void computesTheExampleWeightedMeanAndLoss() {
        // Prepare: c1 (1 ex, loss 2) Δ = [0.5, -1], c2 (3 ex, loss 1) Δ = [1.5, 1]
        WeightedMean mean = WeightedMean.empty(2);

        // Execute
        mean.add(new ClientUpdate("c1", 1, new float[] {0.5f, -1f}, 2.0, 7))
                .add(new ClientUpdate("c2", 3, new float[] {1.5f, 1f}, 1.0, 5));

        // Assert: [(0.5 + 4.5)/4, (-1 + 3)/4] = [1.25, 0.5]; loss (1·2 + 3·1)/4 = 1.25
        assertThat(mean.mean()).containsExactly(1.25f, 0.5f);
        assertThat(mean.meanTrainLoss()).isEqualTo(1.25);
        assertThat(mean.totalWeight()).isEqualTo(4);
        assertThat(mean.count()).isEqualTo(2);
        assertThat(mean.trainTokens()).isEqualTo(12);
    }

    @Test
    void mergeOrderAndTreeShapeDoNotChangeTheBits() {
        // Prepare: 9 random updates of 257 coordinates with cancelling signs and mixed magnitudes
        List<ClientUpdate> updates = Fixtures.randomUpdates(42, 9, 257);
        WeightedMean sequential = WeightedMean.empty(257);
        updates.forEach(sequential::add);
        int[] expected = bits(sequential.mean());
        Random shuffler = new Random(7);

        for (int trial = 0; trial < 30; trial++) {
            // Execute: shuffle, split into random partitions, reduce each, then merge in a random tree
            List<ClientUpdate> order = new ArrayList<>(updates);
            Collections.shuffle(order, shuffler);
            List<WeightedMean> partials = new ArrayList<>();
            for (ClientUpdate u : order) {
                if (partials.isEmpty() || shuffler.nextBoolean()) {
                    partials.add(WeightedMean.empty(257));
                }
                partials.get(partials.size() - 1).add(u);
            }
            while (partials.size() > 1) {
                int i = shuffler.nextInt(partials.size() - 1);
                WeightedMean left = partials.remove(i);
                WeightedMean right = partials.remove(i);
                partials.add(i, shuffler.nextBoolean() ? left.merge(right) : right.merge(left));
            }

            // Assert
            assertThat(bits(partials.get(0).mean())).as("trial %s", trial).isEqualTo(expected);
            assertThat(partials.get(0).totalWeight()).isEqualTo(sequential.totalWeight());
        }
    }

    @Test
    void cancellationDoesNotLoseLowBits() {
        // Prepare: Δ = 1, 2^-60, -1, 0 with weight 1 each: exact mean 2^-60 / 4 = 2^-62.
        // A plain double sum gives 0 when 1 + 2^-60 is formed first and 2^-62 otherwise.
        float tiny = (float) Math.scalb(1.0, -60);
        List<ClientUpdate> updates =
                List.of(update("a", 1, 1f), update("b", 1, tiny), update("c", 1, -1f), update("d", 1, 0f));

        for (List<ClientUpdate> order : List.of(updates, List.of(updates.get(2), updates.get(0), updates.get(1), updates.get(3)))) {
            // Execute
            WeightedMean mean = WeightedMean.empty(1);
            order.forEach(mean::add);

            // Assert
            assertThat(mean.mean()).containsExactly((float) Math.scalb(1.0, -62));
        }
    }

    @Test
    void matchesTheSequentialSumOnSmallIntegers() {
        // Prepare: weights 2^40 and 1 (the first takes the fma path), Δ = 3 and 1
        WeightedMean mean = WeightedMean.empty(1);

        // Execute
        mean.add(update("big", 1L << 40, 3f)).add(update("small", 1, 1f));

        // Assert: (3·2^40 + 1) / (2^40 + 1) rounds to 3 in float
        assertThat(mean.mean()).containsExactly((float) ((3.0 * (1L << 40) + 1) / ((1L << 40) + 1)));
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        // Prepare
        List<ClientUpdate> updates = Fixtures.randomUpdates(3, 4, 16);
        WeightedMean left = WeightedMean.empty(16).add(updates.get(0)).add(updates.get(1));
        WeightedMean right = WeightedMean.empty(16).add(updates.get(2)).add(updates.get(3));
        WeightedMean reference = WeightedMean.empty(16);
        updates.forEach(reference::add);

        // Execute: ship one partial as Spark would
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(right);
        }
        WeightedMean shipped;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            shipped = (WeightedMean) in.readObject();
        }

        // Assert
        assertThat(bits(left.merge(shipped).mean())).isEqualTo(bits(reference.mean()));
    }

    @Test
    void zeroTotalWeightHasNoMean() {
        // Prepare
        WeightedMean mean = WeightedMean.empty(2).add(update("idle", 0, 1f, 1f));

        // Execute / Assert
        assertThat(mean.count()).isEqualTo(1);
        assertThat(mean.meanTrainLoss()).isNaN();
        assertThatThrownBy(mean::mean)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 client updates whose numExamples sum to 0");
    }

    @Test
    void rejectsMismatchedSizes() {
        assertThatThrownBy(() -> WeightedMean.empty(3).add(update("c5", 1, 1f)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("client c5 sent an update of 1 elements but the global vector has 3");
        assertThatThrownBy(() -> WeightedMean.empty(3).merge(WeightedMean.empty(2)))
                .hasMessageContaining("Cannot merge weighted means of 3 and 2 elements");
    }

    @Test
    void weightedMeanAggregationMatchesTheAccumulator() {
        // Prepare
        SplittableRandom random = new SplittableRandom(1);
        List<float[]> vectors = List.of(Fixtures.randomVector(1, 33), Fixtures.randomVector(2, 33), Fixtures.randomVector(3, 33));
        long[] weights = {random.nextLong(1, 100), 0, random.nextLong(1, 100)};
        WeightedMean mean = WeightedMean.empty(33);
        for (int k = 0; k < 3; k++) {
            mean.add(new ClientUpdate("c" + k, weights[k], vectors.get(k), 0.0, 0));
        }

        // Execute / Assert
        assertThat(bits(Aggregations.weightedMean(vectors, weights))).isEqualTo(bits(mean.mean()));
    }
}
