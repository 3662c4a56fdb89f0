package dev.understudy.job.engine;

import dev.understudy.ops.federation.ByzantineAttack;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A <b>simulated</b> Byzantine client, for robustness experiments only ({@code attack.*}): an
 * attacker trains with the method's task and then corrupts its update ({@code sign_flip}, {@code
 * scale}), or trains on its rows with every label replaced by the next one ({@code label_flip});
 * honest clients run the task unchanged. Attackers report the statistic {@value #ATTACKERS} (1 per
 * attacking client) and, for label flips, {@value #FLIPPED} (rows whose label was replaced), so a
 * run's round files say how many attackers took part.
 */
final class AttackClientTask implements ClientTask {
    private static final long serialVersionUID = 1L;

    static final String ATTACKERS = "attack.clients";
    static final String FLIPPED = "attack.flipped_rows";

    private final ClientTask inner;
    private final ByzantineAttack attack;
    private final Set<String> attackers;
    private final List<int[]> labelResponses; // label_flip only

    AttackClientTask(ClientTask inner, ByzantineAttack attack, Set<String> attackers, List<int[]> labelResponses) {
        if (attack.kind() == ByzantineAttack.Kind.LABEL_FLIP && (labelResponses == null || labelResponses.size() < 2)) {
            throw new IllegalArgumentException("attack.kind=label_flip needs classification data with at least two"
                    + " labels (data.kind: classification)");
        }
        this.inner = inner;
        this.attack = attack;
        this.attackers = Set.copyOf(attackers);
        this.labelResponses = labelResponses == null ? List.of() : List.copyOf(labelResponses);
    }

    @Override
    public String name() {
        return inner.name() + "+attack-" + attack.kind().name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public Map<String, HostTensor> initialState(DecoderModel clientModel, TrainSettings settings) {
        return inner.initialState(clientModel, settings);
    }

    @Override
    public ClientResult train(Round round, ClientData data) {
        if (!attackers.contains(data.clientId())) {
            return inner.train(round, data);
        }
        Map<String, double[]> stats = new TreeMap<>();
        stats.put(ATTACKERS, new double[] {1});
        ClientResult r;
        if (attack.kind() == ByzantineAttack.Kind.LABEL_FLIP) {
            List<ClientData.Tokens> flipped = new ArrayList<>(data.train().size());
            int n = 0;
            for (ClientData.Tokens t : data.train()) {
                int[] ids = ByzantineAttack.flipLabel(t.ids(), t.promptLength(), labelResponses);
                n += ids == t.ids() ? 0 : 1;
                flipped.add(new ClientData.Tokens(ids, t.promptLength()));
            }
            stats.put(FLIPPED, new double[] {n});
            r = inner.train(round, new ClientData(data.clientId(), flipped, data.eval()));
        } else {
            r = inner.train(round, data);
            if (r.ok()) {
                r = new ClientResult(r.clientId(), r.round(), r.numExamples(), attack.corrupt(r.delta()), r.trainLoss(),
                        r.trainTokens(), r.trainSeconds(), r.attempt(), null, r.statistics());
            }
        }
        if (!r.ok()) {
            return r;
        }
        Map<String, double[]> all = new TreeMap<>(r.statistics());
        all.putAll(stats);
        return r.withStatistics(all);
    }

    @Override
    public void writeFinal(ModelSink sink, DecoderModel clientModel, TrainSettings settings, float[] global,
            Map<String, long[]> layout) throws IOException {
        inner.writeFinal(sink, clientModel, settings, global, layout);
    }
}
