package dev.understudy.job.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class GridTest {
    @Test
    void expandsMethodsConfigsParamsAndSeedsInOrder() {
        Grid g = Grid.parse("""
                output: /tmp/x
                set: {server.rounds: 2}
                methods: {a: {server.strategy: fedavg}, b: {server.strategy_params: {proximal_mu: 0.1}}}
                configs: {c1: {}, c2: {partitioning.alpha: 0.3}}
                params: {client.lr: [0.01, 0.02]}
                seeds: [1, 2, 3]
                """, "g.yaml");
        List<Grid.Cell> cells = g.cells();
        assertThat(cells).hasSize(2 * 2 * 2 * 3);
        assertThat(cells.get(0).id()).isEqualTo("method=a,config=c1,client.lr=0.01,seed=1");
        assertThat(cells.get(0).group()).isEqualTo("method=a,config=c1,client.lr=0.01");
        assertThat(cells.get(0).sets()).containsExactly("server.rounds=2", "server.strategy=fedavg", "client.lr=0.01", "seed=1");
        assertThat(cells.get(23).id()).isEqualTo("method=b,config=c2,client.lr=0.02,seed=3");
        assertThat(cells.get(23).sets()).contains("server.strategy_params={proximal_mu: 0.1}", "partitioning.alpha=0.3");
        assertThat(cells).extracting(Grid.Cell::id).doesNotHaveDuplicates();
    }

    @Test
    void rejectsUnknownKeysAndMissingParts() {
        assertThatThrownBy(() -> Grid.parse("methods: {a: {}}\nseeds: [1]\nsed: 2\n", "g.yaml"))
                .hasMessageContaining("g.yaml: unknown key 'sed'");
        assertThatThrownBy(() -> Grid.parse("methods: {a: {}}\n", "g.yaml")).hasMessageContaining("'seeds'");
        assertThatThrownBy(() -> Grid.parse("seeds: [1]\n", "g.yaml")).hasMessageContaining("'methods'");
        assertThatThrownBy(() -> Grid.parse("methods: {a: {}}\nseeds: [1]\nparams: {client.lr: 3}\n", "g.yaml"))
                .hasMessageContaining("params.client.lr must be a non-empty list");
    }

    @Test
    void tIntervalsMatchHandComputedValues() {
        assertThat(Intervals.tCritical(1)).isCloseTo(12.7062, within(1e-4));
        assertThat(Intervals.tCritical(4)).isCloseTo(2.7764, within(1e-4));
        // {1, 2, 3}: mean 2, s = 1, t(0.975, 2) = 4.3027 → half-width 4.3027 / √3 = 2.4841
        Intervals.Interval i = Intervals.of(new double[] {1, 2, 3});
        assertThat(i.mean()).isEqualTo(2.0);
        assertThat(i.halfWidth()).isCloseTo(2.4841, within(1e-4));
        assertThat(Intervals.of(new double[] {5}).halfWidth()).isNaN();
        assertThat(Intervals.of(new double[] {Double.NaN, 4, 6}).n()).isEqualTo(2);
    }
}
