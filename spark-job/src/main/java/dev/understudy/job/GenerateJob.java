package dev.understudy.job;

import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.DriverModels;
import dev.understudy.job.engine.ServerLogits;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.run.CommittedRun;
import dev.understudy.ops.infer.Generator;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code understudy generate}: continues prompts with a run's model on the driver: the model the
 * method's server holds for the round ({@link dev.understudy.job.engine.FederatedMethod#serverModel};
 * for FedPT the proxy-tuned large model, large base + α × (small with the round's expert adapter −
 * small base), three KV caches); with {@code smallOnly}, the client model with the round's adapter;
 * with {@code base}, the bare client model. Prompts are formatted as the run's data are: {@code
 * data.template} for classification rows, as given for instruction rows, then {@code [BOS] prompt}
 * (left-truncated to {@code data.max_length}).
 */
public final class GenerateJob {
    private GenerateJob() {}

    /**
     * @param round committed round (null = the last)
     * @param base the bare client model, no adapter (needs no committed round)
     * @param smallOnly the client model with the round's adapter instead of the method's server model
     *     (FedPT: instead of the proxy)
     * @param temperature 0 = greedy
     */
    public record Options(List<String> prompts, Integer round, boolean base, boolean smallOnly, int maxNewTokens,
            double temperature, double topP, long seed) {
        public Options {
            if (prompts == null || prompts.isEmpty()) {
                throw new IllegalArgumentException("generate needs at least one --prompt TEXT");
            }
            prompts = List.copyOf(prompts);
            new Generator.Config(maxNewTokens, temperature, topP, -1, seed); // validates, naming the setting
        }
    }

    /** One continuation: the prompt as given, the text generated (special tokens dropped), the token ids. */
    public record Generation(String prompt, String text, List<Integer> ids) {
        public int tokens() {
            return ids.size();
        }
    }

    /** @param model what generated, e.g. {@code round-3 proxy-tuned large (α=1.0)} */
    public record Result(String model, List<Generation> generations) {}

    public static Result generate(Configuration hadoop, JobConfig given, Options o) throws IOException {
        try (CommittedRun run = CommittedRun.open(hadoop, given, o.round(), o.base(), "run the job first, or pass --base");
                DriverModels models = new DriverModels(hadoop);
                Tokenizer tok = Tokenizer.load(run.localClientModel())) {
            JobConfig cfg = run.config();
            TrainSettings settings = run.settings(tok.padIdOrEos());
            DecoderModel client = models.get(run.clientModel().uri());
            ServerModel.Adapted adapted = run.clientServerModel(CommittedRun.layout(client, settings));
            ServerModel model = o.smallOnly() ? adapted : run.serverModel(adapted);
            List<int[]> ids = new ArrayList<>();
            for (String p : o.prompts()) {
                ids.add(tok.encodePromptResponse(format(cfg.data(), p), "", cfg.data().maxLength(), tok.addBosByDefault(), false).ids());
            }
            int eos = tok.eosId().orElse(-1);
            Generator.Config gc = new Generator.Config(o.maxNewTokens(), o.temperature(), o.topP(), eos, o.seed());
            List<int[]> outs;
            try (ServerLogits logits = ServerLogits.open(model, models, settings.lora(), settings.padId())) {
                outs = Generator.generate(logits.logits(), ids, gc);
            }
            List<Generation> gens = new ArrayList<>();
            for (int i = 0; i < outs.size(); i++) {
                gens.add(new Generation(o.prompts().get(i), tok.decode(outs.get(i), true),
                        Arrays.stream(outs.get(i)).boxed().toList()));
            }
            return new Result(run.what() + " " + model.describe(), gens);
        }
    }

    /** The prompt as the run's data format it: the classification template, or the instruction as given. */
    static String format(DataConfig d, String prompt) {
        return d.kind() == DataConfig.Kind.CLASSIFICATION ? d.template().replace(DataConfig.TEXT_PLACEHOLDER, prompt) : prompt;
    }

    static String text(Result r) {
        StringBuilder b = new StringBuilder("model: " + r.model() + "\n");
        for (Generation g : r.generations()) {
            b.append("\n> ").append(g.prompt()).append('\n').append(g.text()).append('\n');
        }
        return b.toString();
    }
}
