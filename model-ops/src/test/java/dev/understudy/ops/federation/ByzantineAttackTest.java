package dev.understudy.ops.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByzantineAttackTest {
    static List<String> ids(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(String.format("client-%03d", i));
        }
        return ids;
    }

    @Test
    void picksASeededFixedFractionOfClients() {
        ByzantineAttack a = new ByzantineAttack(ByzantineAttack.Kind.SIGN_FLIP, 0.3, 1, 7);
        Set<String> s = a.attackers(ids(20));
        assertThat(s).hasSize(6).isSubsetOf(ids(20));
        List<String> reversed = new ArrayList<>(ids(20));
        java.util.Collections.reverse(reversed);
        assertThat(a.attackers(reversed)).isEqualTo(s); // order of the input does not matter
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.SIGN_FLIP, 0.3, 1, 8).attackers(ids(20))).isNotEqualTo(s);
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.SCALE, 0.1, 10, 7).attackers(ids(20))).hasSize(2);
        assertThat(ByzantineAttack.NONE.attackers(ids(20))).isEmpty();
    }

    @Test
    void corruptsUpdates() {
        float[] d = {1f, -2f};
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.SIGN_FLIP, 0.1, 1, 0).corrupt(d)).containsExactly(-1f, 2f);
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.SIGN_FLIP, 0.1, 4, 0).corrupt(d)).containsExactly(-4f, 8f);
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.SCALE, 0.1, 10, 0).corrupt(d)).containsExactly(10f, -20f);
        assertThat(new ByzantineAttack(ByzantineAttack.Kind.LABEL_FLIP, 0.1, 1, 0).corrupt(d)).isSameAs(d);
    }

    @Test
    void flipsTheLabelToTheNextOne() {
        List<int[]> labels = List.of(new int[] {7, 1}, new int[] {8, 1}, new int[] {9, 9, 1});
        assertThat(ByzantineAttack.flipLabel(new int[] {4, 5, 7, 1}, 2, labels)).containsExactly(4, 5, 8, 1);
        assertThat(ByzantineAttack.flipLabel(new int[] {4, 5, 8, 1}, 2, labels)).containsExactly(4, 5, 9, 9, 1);
        assertThat(ByzantineAttack.flipLabel(new int[] {4, 5, 9, 9, 1}, 2, labels)).containsExactly(4, 5, 7, 1);
        int[] other = {4, 5, 6, 1};
        assertThat(ByzantineAttack.flipLabel(other, 2, labels)).isSameAs(other);
    }

    @Test
    void parsesKindsAndRejectsBadSettings() {
        assertThat(ByzantineAttack.Kind.parse("Sign_Flip")).isEqualTo(ByzantineAttack.Kind.SIGN_FLIP);
        assertThatThrownBy(() -> ByzantineAttack.Kind.parse("flip")).hasMessageContaining("valid kinds");
        assertThatThrownBy(() -> new ByzantineAttack(ByzantineAttack.Kind.SCALE, 1.0, 2, 0))
                .hasMessageContaining("attack.fraction");
    }
}
