package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RanksTest {

    @Test
    void ranksFollowHashThenKeyWithinEachGroup() {
        // Prepare: group 0 has hashes 5, -3, 5, 5 (three-way collision settled by key); group 1 has one row.
        long[] hashes = {5, -3, 5, 9, 5};
        int[] group = {0, 0, 0, 1, 0};
        String[] keys = {"c", "z", "a", "q", "b"};
        // Execute
        int[] rank = Ranks.within(hashes, group, 2, (a, b) -> RowOrder.compareKeys(keys[a], keys[b]));
        // Assert: group 0 order is -3:z, 5:a, 5:b, 5:c.
        assertThat(rank).containsExactly(3, 0, 1, 0, 2);
    }

    @Test
    void duplicateKeysInAGroupAreRejected() {
        long[] hashes = {1, 1};
        String[] keys = {"same", "same"};
        assertThatThrownBy(() -> Ranks.within(hashes, new int[] {0, 0}, 1, (a, b) -> keys[a].compareTo(keys[b])))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("same row key");
    }

    @Test
    void groupIndicesAreChecked() {
        assertThatThrownBy(() -> Ranks.within(new long[] {1}, new int[] {2}, 2, (a, b) -> 0))
                .hasMessageContaining("expected [0, 2)");
    }
}
