package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.partition.PartitioningConfig;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigSchemaTest {

    /** Every key the records hold, in component order ({@code partitioning} as one opaque key). */
    static List<String> recordKeyPaths() {
        List<String> out = new ArrayList<>();
        collect(JobConfig.class, "", out);
        return out;
    }

    private static void collect(Class<?> record, String prefix, List<String> out) {
        for (RecordComponent c : record.getRecordComponents()) {
            String path = prefix + ConfigBinder.snake(c.getName());
            if (c.getType().isRecord() && c.getType() != PartitioningConfig.class) {
                collect(c.getType(), path + ".", out);
            } else {
                out.add(path);
            }
        }
    }

    @Test
    void schemaNamesEveryRecordFieldInRecordOrder() {
        assertThat(ConfigSchema.KEYS.stream().map(ConfigSchema.Key::path).toList())
                .containsExactlyElementsOf(recordKeyPaths());
    }

    @Test
    void everyKeyIsDescribed() {
        ConfigSchema.KEYS.forEach(k -> assertThat(k.description()).as(k.path()).isNotBlank());
        assertThat(ConfigSchema.SECTIONS.keySet()).contains("data", "partitioning", "model", "model.lora", "client",
                "server", "output");
    }

    @Test
    void suggestionsPreferAbbreviationsAndContainedWords() {
        assertThat(Suggestions.nearest("learning_rate", ConfigSchema.children("client"))).isEqualTo("lr");
        assertThat(Suggestions.nearest("epochs", ConfigSchema.children("client"))).isEqualTo("local_epochs");
        assertThat(Suggestions.nearest("batchsize", ConfigSchema.children("client"))).isEqualTo("batch_size");
        assertThat(Suggestions.nearest("round", ConfigSchema.children("server"))).isEqualTo("rounds");
    }
}
