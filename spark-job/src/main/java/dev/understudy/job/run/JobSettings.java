package dev.understudy.job.run;

import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.engine.UpdateGuard;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A run's configuration turned into what the engine's executor functions take: the client
 * settings and the label candidates. Shared by the jobs ({@code run}, {@code evaluate},
 * {@code generate}, {@code export}) and the benchmarks, so none of them calls another.
 */
public final class JobSettings {
    private JobSettings() {}

    /**
     * @param clientModelUri the client model in force (its LoRA shape comes from {@code model.lora})
     * @param totalSteps the run's total local steps per client (the learning-rate schedule length)
     * @param hadoop the driver's Hadoop settings, shipped to executors to reach a remote model
     */
    public static TrainSettings settings(JobConfig cfg, String clientModelUri, int padId, long totalSteps, double proximalMu,
            HadoopConf hadoop) {
        var c = cfg.client();
        var lora = cfg.model().lora();
        return new TrainSettings(clientModelUri, lora.rank(), lora.alpha(), lora.dropout(), lora.targetModules(),
                c.localSteps(), c.batchSize(), c.gradAccumSteps(), c.lr(), c.schedule(), c.warmupSteps(),
                Math.max(totalSteps, c.warmupSteps()), c.minLrRatio(), c.weightDecay(), c.maxGradNorm(), cfg.seed(), padId,
                c.localEpochs(), proximalMu, hadoop, new UpdateGuard(c.maxUpdateRms(), c.maxTrainLoss()));
    }

    /**
     * Label candidates for accuracy on classification data: each label's response (its label word)
     * tokenised as the examples' responses are; null when the data are not classification rows or
     * have fewer than two labels.
     */
    public static EvalFunction.Labels labelCandidates(JobConfig cfg, List<String> labels, Tokenizer tok) {
        if (labels.size() < 2) {
            return null;
        }
        List<int[]> responses = new ArrayList<>();
        for (String l : labels) {
            var pr = tok.encodePromptResponse(" ", cfg.data().responseFor(l), cfg.data().maxLength(), tok.addBosByDefault(), true);
            responses.add(Arrays.copyOfRange(pr.ids(), pr.promptLength(), pr.ids().length));
        }
        return new EvalFunction.Labels(labels, responses);
    }
}
