package dev.understudy.job.method;

import ai.djl.ndarray.NDManager;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ClientModel;
import dev.understudy.job.engine.MethodContext;
import dev.understudy.ops.distill.RepDistillConfig;
import dev.understudy.ops.distill.RepresentationDistiller;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.surgery.DerivedModel;
import dev.understudy.ops.train.DenseTrainables;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * FedBiOT (Wu, Li, Li, Ding, Gao; KDD 2024, arXiv 2406.17706; methods.md §4(b)): FedOT plus a
 * server step every round. Before round {@code r ≥ 2} the server re-aligns the emulator's middle on
 * its public corpus ({@code method_params.kd_data}) with the current global adapter frozen in both
 * models, minimising {@link #alignmentConfig}: {@code ℓ_nmse(M(h), E(h)) + w_kl·KL(p_full+adapter ‖
 * p_emulator+adapter)} ({@code align_kl_weight}, default 0 as in the Dolly yaml), {@code
 * align_steps} steps. The aligned emulator is client-model version {@code r}, written to {@code
 * method/emulator/v<r>}; the engine commits the version with every round, so a resume trains the
 * same emulator. Clients add the engine's proximal term on the adapter ({@code client.proximal_mu}).
 *
 * <p>Deviations, stated: the optimiser is AdamW (constant {@code align_lr}, fresh each round, seeded
 * by (seed, round)) where FedBiOT uses SGD 0.01; the proximal term is FedProx's {@code μ/2·‖θ −
 * θ_round‖²} on the LoRA factors, where FedBiOT's is {@code λ·‖·‖²} on the merged adapter weights;
 * the 50 pre-alignment rounds are the one-off {@code distill} of {@link OffsiteTuning}. The
 * default adapter is the top layers only ({@code bottom} may be omitted, i.e. 0).
 */
public final class FedBiOt extends OffsiteTuning {
    public static final String NAME = "fedbiot";

    public FedBiOt(String fullUri, OffsiteConfig params, DataConfig data) {
        super(fullUri, params, data);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The server alignment loss: {@code 1·ℓ_nmse + w_kl·KL}, no LM term. */
    static RepDistillConfig alignmentConfig(OffsiteConfig p, long seed, int round) {
        TrainConfig train = new TrainConfig(LrSchedule.constant(p.alignLr()), 0.0, 0.9, 0.999, 1e-8, 1.0,
                p.kdBatchSize(), 1, Trainer.mix(seed ^ 0x42494FL, round));
        return RepDistillConfig.fedBiOt(train, p.alignKlWeight());
    }

    @Override
    public Optional<ClientModelChange> planRound(MethodContext ctx, int round, float[] global) throws IOException {
        if (round < 2) {
            return Optional.empty();
        }
        ensureFull(ctx);
        List<Example> pub = publicData(ctx);
        Plugged p = plugIn(ctx, global);
        DecoderModel current = ctx.clientModel(); // emulator version round − 1, as committed
        Map<String, Double> metrics = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        DerivedModel aligned;
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel student = current.copy(m);
                LoraAdapter teacherAdapter = LoraAdapter.create(full, p.lora(), 0, m);
                LoraAdapter studentAdapter = LoraAdapter.create(student, ctx.settings().lora(), 0, m)) {
            teacherAdapter.load(p.factors());
            studentAdapter.load(AdapterVectors.unflatten(ctx.layout(), global));
            try (DenseTrainables trainables = new DenseTrainables(student,
                            DenseTrainables.layers(emulator.middlePrefixes(student.config())));
                    RepresentationDistiller d = new RepresentationDistiller(full, teacherAdapter, student, trainables,
                            studentAdapter, emulator.alignment(derivation), alignmentConfig(params, ctx.seed(), round),
                            ctx.settings().padId(), m)) {
                metrics.put("align_nmse_before", d.evaluate(pub).nmse());
                d.train(pub, params.alignSteps(), null);
                RepresentationDistiller.Evaluation after = d.evaluate(pub);
                metrics.put("align_nmse_after", after.nmse());
                if (params.alignKlWeight() > 0) {
                    metrics.put("align_kl_after", after.kl());
                }
            }
            aligned = new DerivedModel(student.config(), student.exportTensors(), derivation);
        }
        save(ctx, aligned, emulatorDir(round));
        metrics.put("align_seconds", (System.nanoTime() - t0) / 1e9);
        metrics.put("emulator_version", (double) round);
        setRoundMetrics(metrics);
        return Optional.of(new ClientModelChange(new ClientModel(uri(ctx, emulatorDir(round)), round), null));
    }
}
