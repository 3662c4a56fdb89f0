package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conf/defaults.yaml} is the reference users read; it is generated from {@link ConfigSchema}
 * and must not drift from it or from the records.
 */
class DefaultsYamlTest {
    static final Path CONF = Path.of("").toAbsolutePath().getParent().resolve("conf");
    static final Path DEFAULTS = CONF.resolve("defaults.yaml");

    @Test
    void defaultsFileIsTheGeneratedReference() throws IOException {
        String expected = ConfigReference.defaultsYaml();
        if (Boolean.getBoolean("understudy.regenerate")) {
            Files.writeString(DEFAULTS, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(DEFAULTS, StandardCharsets.UTF_8))
                .as("conf/defaults.yaml is stale; regenerate it as its header says")
                .isEqualTo(expected);
    }

    @Test
    void everyRecordFieldAppearsInDefaultsYamlWithItsRecordDefault() throws IOException {
        Map<String, Object> parsed = ConfigTree.cast(ConfigTree.yaml().load(Files.readString(DEFAULTS)));
        List<String> missing = new ArrayList<>();
        for (String path : ConfigSchemaTest.recordKeyPaths()) {
            ConfigTree tree = new ConfigTree();
            tree.root.putAll(parsed);
            if (!tree.has(path)) {
                missing.add(path);
            } else {
                Object fromFile = tree.get(path);
                Object recordDefault = ConfigSchema.key(path).defaultValue();
                assertThat(YamlWriter.flow(fromFile)).as(path).isEqualTo(YamlWriter.flow(recordDefault));
            }
        }
        assertThat(missing).as("record fields missing from conf/defaults.yaml").isEmpty();
    }

    @Test
    void everyKeyHasACommentInDefaultsYaml() throws IOException {
        List<String> lines = Files.readAllLines(DEFAULTS);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.isBlank() && !line.trim().startsWith("#")) {
                assertThat(lines.get(i - 1).trim()).as("comment above: " + line).startsWith("#");
            }
        }
    }

    @Test
    void loadingDefaultsYamlChangesNothing(@TempDir Path dir) throws IOException {
        Path conf = ConfigLoaderTest.write(dir, "run.yaml", ConfigLoaderTest.MINIMAL);
        assertThat(ConfigLoader.load(DEFAULTS, List.of(conf), List.of()))
                .isEqualTo(ConfigLoader.load(null, List.of(conf), List.of()));
    }

    @Test
    void markdownReferenceAgreesWithDefaultsYaml() throws IOException {
        String md = ConfigReference.referenceMarkdown();
        Map<String, Object> parsed = ConfigTree.cast(ConfigTree.yaml().load(Files.readString(DEFAULTS)));
        ConfigTree tree = new ConfigTree();
        tree.root.putAll(parsed);
        for (ConfigSchema.Key k : ConfigSchema.KEYS) {
            String def = k.required() ? "*required*" : "`" + YamlWriter.flow(tree.get(k.path())) + "`";
            assertThat(md).contains("| `" + k.path() + "` | " + ConfigReference.type(k.path()) + " | "
                    + def.replace("\n", "\\n").replace("|", "\\|") + " | ");
        }
        assertThat(md).contains("| `client.schedule` | one of constant, linear, cosine | `cosine` |");
    }

    @Test
    void exampleLoadsOnTopOfTheDefaults() {
        JobConfig c = ConfigLoader.load(DEFAULTS, List.of(CONF.resolve("examples/fedavg-tiny.yaml")), List.of());
        assertThat(c.partitioning()).isNotNull();
        assertThat(c.method()).isEqualTo("fedavg_lora");
    }
}
