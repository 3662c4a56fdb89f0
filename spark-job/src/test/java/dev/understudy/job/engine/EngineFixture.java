package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import dev.understudy.ops.train.LrSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * A tiny random-init LLaMA with a byte-level tokenizer and 8 non-IID clients ("cake is" → " good"),
 * and a helper that runs the round engine over them on the shared local[2] session: the fixture of
 * the method contract tests.
 */
final class EngineFixture {
    static final TokenizerSpec SPEC = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
    static final ModelConfig CONFIG = ModelConfig.llama(SPEC.vocabSize(), 32, 2, 4, 2, 64, 128);

    final Path modelDir;
    final List<ClientData> clients = new ArrayList<>();

    EngineFixture(Path dir) throws Exception {
        modelDir = dir.resolve("tiny-llama");
        HfModels.createRandom(CONFIG, 7, SPEC, modelDir);
        String[] good = {"cake", "sun", "song", "gift", "smile"};
        String[] bad = {"mud", "rain", "bug", "dust", "fog"};
        try (Tokenizer tok = Tokenizer.load(modelDir)) {
            SplittableRandom r = new SplittableRandom(3);
            for (int c = 0; c < 8; c++) {
                double pGood = (c + 0.5) / 8.0;
                List<ClientData.Tokens> train = new ArrayList<>();
                List<ClientData.Tokens> eval = new ArrayList<>();
                int n = 16 + c; // unequal sizes, so example weights matter
                for (int i = 0; i < n + 4; i++) {
                    boolean g = r.nextDouble() < pGood;
                    String w = g ? good[r.nextInt(good.length)] : bad[r.nextInt(bad.length)];
                    var pr = tok.encodePromptResponse(w + " is", g ? " good" : " bad", 32, true, true);
                    (i < n ? train : eval).add(new ClientData.Tokens(pr.ids(), pr.promptLength()));
                }
                clients.add(new ClientData("client-" + c, train, eval));
            }
        }
    }

    TrainSettings settings() {
        return new TrainSettings(modelDir.toUri().toString(), 4, 8, 0.0, List.of("q_proj", "v_proj"), 3, 4, 1, 2e-2,
                LrSchedule.Kind.COSINE, 1, 30, 0.1, 0.0, 1.0, 11, 0, 0);
    }

    List<String> ids() {
        return clients.stream().map(ClientData::clientId).sorted().toList();
    }

    static RoundEngine.Options options(int rounds, int stopAfter, long collectBudgetBytes) {
        return new RoundEngine.Options(rounds, 5, 1.0, 1, 2, 0.5, 5, stopAfter, collectBudgetBytes);
    }

    RoundEngine.Result run(JavaSparkContext jsc, Path out, FederatedMethod method, FederatedStrategy strategy,
            RoundEngine.Options options) throws Exception {
        Map<String, Long> sizes = new TreeMap<>();
        clients.forEach(c -> sizes.put(c.clientId(), c.numTrain()));
        List<Tuple2<String, ClientData>> pairs = clients.stream().map(c -> new Tuple2<>(c.clientId(), c)).toList();
        JavaPairRDD<String, ClientData> rdd = jsc.parallelizePairs(pairs, 3).partitionBy(ClientPacking.of(sizes, 3))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(modelDir, m, DataType.FLOAT32)) {
            RoundEngine engine = new RoundEngine(jsc, rdd, new ArrayList<>(sizes.keySet()), settings(), strategy, method,
                    new RunStore(out.toUri(), new Configuration()), options, "seed: 5\n", base, null, 0);
            return engine.run();
        } finally {
            rdd.unpersist(false);
        }
    }
}
