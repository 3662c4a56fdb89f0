package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executor LRU never closes a model a task still uses; it closes it when the last user is done. */
class ExecutorModelCacheTest {
    @TempDir
    Path tmp;

    @AfterEach
    void clear() {
        System.clearProperty("understudy.executor.max_models");
        ExecutorModelCache.invalidate();
    }

    private String model(String name, int seed) throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        Path dir = tmp.resolve(name);
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 16, 1, 2, 1, 32, 64), seed, spec, dir);
        return dir.toUri().toString();
    }

    @Test
    void evictingAModelInUseDefersItsCloseToItsLastUser() throws Exception {
        System.setProperty("understudy.executor.max_models", "1");
        HadoopConf hadoop = HadoopConf.of(new Configuration());
        String a = model("a", 1);
        String b = model("b", 2);
        ExecutorModelCache.Loaded inUse = ExecutorModelCache.acquire(a, -1, hadoop);
        ExecutorModelCache.Loaded second = ExecutorModelCache.acquire(a, -1, hadoop); // another task, same model
        assertThat(second).isSameAs(inUse);

        ExecutorModelCache.Loaded other = ExecutorModelCache.acquire(b, -1, hadoop); // evicts a (limit 1)
        assertThat(ExecutorModelCache.isLoaded(a)).isFalse();
        assertThat(inUse.closed).isFalse();
        assertThat(inUse.manager.isOpen()).isTrue();
        assertThat(inUse.model.linearModules()).isNotEmpty();

        ExecutorModelCache.release(inUse);
        assertThat(inUse.manager.isOpen()).as("one task still uses it").isTrue();
        ExecutorModelCache.release(second);
        assertThat(inUse.closed).isTrue();
        assertThat(inUse.manager.isOpen()).isFalse();

        // a model nobody uses is closed at once when evicted
        ExecutorModelCache.release(other);
        ExecutorModelCache.Loaded again = ExecutorModelCache.acquire(a, -1, hadoop);
        assertThat(other.closed).isTrue();
        assertThat(again).isNotSameAs(inUse);
        ExecutorModelCache.release(again);
    }
}
