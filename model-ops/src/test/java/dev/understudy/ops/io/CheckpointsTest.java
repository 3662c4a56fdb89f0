package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {

    @TempDir
    Path dir;

    /** Ten tensors of 64..208 bytes in mixed dtypes, in a non-alphabetical save order. */
    private static List<TensorEntry> model() {
        List<TensorEntry> tensors = new ArrayList<>();
        for (int layer = 9; layer >= 0; layer--) {
            int n = 16 + 4 * layer;
            DType dtype = layer % 3 == 0 ? DType.BF16 : layer % 3 == 1 ? DType.F16 : DType.F32;
            // F32 layers use 4 bytes per element, the 16-bit layers 2.
            tensors.add(TensorEntry.ofFloats("model.layers." + layer + ".weight", new long[] {n / 4, 4},
                    SafetensorsReaderTest.floats(n, layer), dtype));
        }
        return tensors;
    }

    private static Map<String, TensorEntry> byName(List<TensorEntry> tensors) {
        Map<String, TensorEntry> m = new LinkedHashMap<>();
        tensors.forEach(t -> m.put(t.name(), t));
        return m;
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    /** A source that hides localPath, as a Hadoop source would, so the streaming path is used. */
    private static ModelSource remote(ModelSource local) {
        return new ModelSource() {
            @Override
            public InputStream open(String relativePath) throws IOException {
                return local.open(relativePath);
            }

            @Override
            public boolean exists(String relativePath) throws IOException {
                return local.exists(relativePath);
            }

            @Override
            public String describe() {
                return "hdfs://nn/models/m";
            }
        };
    }

    @Test
    void smallModelIsSavedAsOneFileAndLoadedInOrder() throws IOException {
        List<TensorEntry> tensors = model();
        Checkpoints.save(new DirectoryModelSink(dir), tensors, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        assertThat(files()).containsExactly("model.safetensors");
        Map<String, TensorEntry> loaded = Checkpoints.load(new DirectoryModelSource(dir));
        assertThat(loaded).containsExactlyEntriesOf(byName(tensors));
        assertThat(Checkpoints.load(remote(new DirectoryModelSource(dir)))).containsExactlyEntriesOf(byName(tensors));
        // Data exactly at the limit still fits in one file.
        Path exact = dir.resolve("exact");
        Checkpoints.save(new DirectoryModelSink(exact), tensors, SafetensorsWriter.dataSizeOf(tensors));
        assertThat(exact.resolve("model.safetensors")).exists();
    }

    @Test
    void largeModelIsShardedGreedilyWithAnHfIndex() throws IOException {
        List<TensorEntry> tensors = model();
        long total = SafetensorsWriter.dataSizeOf(tensors);
        long maxShard = 400;
        List<String> closeOrder = new ArrayList<>();
        DirectoryModelSink local = new DirectoryModelSink(dir);
        ModelSink recording = new ModelSink() {
            @Override
            public OutputStream create(String relativePath) throws IOException {
                OutputStream out = local.create(relativePath);
                return new java.io.FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        super.close();
                        closeOrder.add(relativePath);
                    }
                };
            }

            @Override
            public String describe() {
                return local.describe();
            }
        };
        Checkpoints.save(recording, tensors, maxShard);

        List<String> shardFiles = files().stream().filter(f -> !f.endsWith(".json")).collect(Collectors.toList());
        int n = shardFiles.size();
        assertThat(n).isGreaterThanOrEqualTo(3);
        for (int i = 0; i < n; i++) {
            assertThat(shardFiles.get(i)).isEqualTo(String.format("model-%05d-of-%05d.safetensors", i + 1, n));
        }
        assertThat(files()).contains("model.safetensors.index.json").doesNotContain("model.safetensors");
        assertThat(closeOrder).last().isEqualTo("model.safetensors.index.json");

        // Greedy in order: concatenating the shards gives the save order, every shard fits (or is a
        // single tensor), and each shard's first tensor would not have fit into the previous one.
        List<TensorEntry> concatenated = new ArrayList<>();
        long previousShardSize = -1;
        for (String shard : shardFiles) {
            try (SafetensorsFile f = SafetensorsReader.read(dir.resolve(shard))) {
                List<TensorEntry> content = new ArrayList<>(f.all().values());
                long size = SafetensorsWriter.dataSizeOf(content);
                assertThat(size <= maxShard || content.size() == 1).as("shard %s size %s", shard, size).isTrue();
                if (previousShardSize >= 0) {
                    assertThat(previousShardSize + content.get(0).byteSize()).isGreaterThan(maxShard);
                }
                assertThat(f.metadata()).containsEntry("format", "pt");
                previousShardSize = size;
                concatenated.addAll(content);
            }
        }
        assertThat(concatenated).containsExactlyElementsOf(tensors);

        JsonObject index = JsonFiles.read(new DirectoryModelSource(dir), "model.safetensors.index.json");
        assertThat(index.keySet()).containsExactly("metadata", "weight_map");
        assertThat(index.getAsJsonObject("metadata").get("total_size").getAsLong()).isEqualTo(total);
        JsonObject weightMap = index.getAsJsonObject("weight_map");
        assertThat(new ArrayList<>(weightMap.keySet())).isSorted().hasSize(tensors.size());
        for (String shard : shardFiles) {
            try (SafetensorsFile f = SafetensorsReader.read(dir.resolve(shard))) {
                for (String name : f.names()) {
                    assertThat(weightMap.get(name).getAsString()).isEqualTo(shard);
                }
            }
        }

        assertThat(Checkpoints.load(new DirectoryModelSource(dir))).containsExactlyEntriesOf(byName(tensors));
        assertThat(Checkpoints.load(remote(new DirectoryModelSource(dir)))).containsExactlyEntriesOf(byName(tensors));
    }

    @Test
    void tensorLargerThanTheShardLimitGetsItsOwnShard() throws IOException {
        List<TensorEntry> tensors = List.of(
                TensorEntry.ofFloats("small1", new long[] {2}, new float[2]),
                TensorEntry.ofFloats("huge", new long[] {100}, new float[100]),
                TensorEntry.ofFloats("small2", new long[] {2}, new float[2]));
        Checkpoints.save(new DirectoryModelSink(dir), tensors, 16);
        try (SafetensorsFile f = SafetensorsReader.read(dir.resolve("model-00002-of-00003.safetensors"))) {
            assertThat(f.names()).containsExactly("huge");
        }
        assertThat(Checkpoints.load(new DirectoryModelSource(dir)).keySet()).containsExactly("small1", "huge", "small2");
    }

    private void saveSharded() throws IOException {
        Checkpoints.save(new DirectoryModelSink(dir), model(), 400);
    }

    private void rewriteIndex(java.util.function.Consumer<JsonObject> edit) throws IOException {
        JsonObject index = JsonFiles.read(new DirectoryModelSource(dir), "model.safetensors.index.json");
        edit.accept(index.getAsJsonObject("weight_map"));
        JsonFiles.write(new DirectoryModelSink(dir), "model.safetensors.index.json", index);
    }

    @Test
    void missingShardIsReported() throws IOException {
        saveSharded();
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        for (ModelSource src : List.of(new DirectoryModelSource(dir), remote(new DirectoryModelSource(dir)))) {
            assertThatThrownBy(() -> Checkpoints.load(src))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContainingAll("model.safetensors.index.json", "model-00002-of-00003.safetensors",
                            "does not exist");
        }
    }

    @Test
    void tensorMissingFromItsShardIsReported() throws IOException {
        saveSharded();
        rewriteIndex(map -> map.addProperty("lm_head.weight", "model-00001-of-00003.safetensors"));
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("'lm_head.weight'", "model-00001-of-00003.safetensors", "does not contain it");
    }

    @Test
    void tensorInAShardButNotInTheIndexIsReported() throws IOException {
        saveSharded();
        String dropped = "model.layers.9.weight"; // saved first, so in shard 1
        rewriteIndex(map -> map.remove(dropped));
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("model-00001-of-00003.safetensors", "'" + dropped + "'", "does not map");
    }

    @Test
    void corruptShardIsReportedWithItsLocation() throws IOException {
        saveSharded();
        Path shard = dir.resolve("model-00003-of-00003.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(shard.toString(), "truncated");
        assertThatThrownBy(() -> Checkpoints.load(remote(new DirectoryModelSource(dir))))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("hdfs://nn/models/m/model-00003-of-00003.safetensors", "truncated");
    }

    @Test
    void malformedIndexIsReported() throws IOException {
        saveSharded();
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": }}");
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("model.safetensors.index.json", "not valid JSON", "line 1");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .hasMessageContainingAll("model.safetensors.index.json", "weight_map");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"../../etc/x\"}}");
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("model.safetensors.index.json", "'a'", "'../../etc/x'", "not a relative file name");
    }

    @Test
    void directoryWithoutSafetensorsSaysWhatWasExpected() throws IOException {
        DirectoryModelSource src = new DirectoryModelSource(dir);
        assertThatThrownBy(() -> Checkpoints.load(src))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(src.describe(), "model.safetensors", "model.safetensors.index.json",
                        "pytorch_model.bin", "convert it to safetensors");
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        assertThatThrownBy(() -> Checkpoints.load(src))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("holds pytorch_model.bin", "not supported", "convert them to safetensors");
    }

    @Test
    void singleFileNextToAnIndexIsAmbiguous() throws IOException {
        saveSharded();
        Checkpoints.save(new DirectoryModelSink(dir), model().subList(0, 1), Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        assertThatThrownBy(() -> Checkpoints.load(new DirectoryModelSource(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("both", "stale");
    }

    @Test
    void saveValidatesItsArgumentsBeforeWriting() {
        TensorEntry a = TensorEntry.ofFloats("a", new long[] {1}, new float[] {1f});
        assertThatThrownBy(() -> Checkpoints.save(new DirectoryModelSink(dir), List.of(a), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxShardBytes to 0");
        assertThatThrownBy(() -> Checkpoints.save(new DirectoryModelSink(dir), List.of(a, a), 1))
                .hasMessageContaining("'a' appears twice");
        assertThat(dir.toFile().list()).isEmpty();
    }

    private static TensorEntry doubled(TensorEntry t) {
        float[] v = t.toFloats();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 2;
        }
        return TensorEntry.ofFloats(t.name(), t.shape(), v, t.dtype());
    }

    @Test
    void specsReadTheHeadersInLoadOrder() throws IOException {
        for (long maxShard : new long[] {400, Checkpoints.DEFAULT_MAX_SHARD_BYTES}) {
            Path d = dir.resolve("m" + maxShard);
            Checkpoints.save(new DirectoryModelSink(d), model(), maxShard);
            Map<String, TensorSpec> expected = new LinkedHashMap<>();
            Checkpoints.load(new DirectoryModelSource(d)).forEach((k, v) -> expected.put(k, TensorSpec.of(v)));
            assertThat(Checkpoints.specs(new DirectoryModelSource(d))).containsExactlyEntriesOf(expected);
            assertThat(Checkpoints.specs(remote(new DirectoryModelSource(d)))).containsExactlyEntriesOf(expected);
        }
    }

    @Test
    void transformKeepsTheLayoutAndRewritesEachTensor() throws IOException {
        for (long maxShard : new long[] {400, Checkpoints.DEFAULT_MAX_SHARD_BYTES}) {
            Path src = dir.resolve("src" + maxShard);
            Path out = dir.resolve("out" + maxShard);
            Checkpoints.save(new DirectoryModelSink(src), model(), maxShard);
            List<String> seen = new ArrayList<>();
            Checkpoints.TransformResult r = Checkpoints.transform(remote(new DirectoryModelSource(src)),
                    new DirectoryModelSink(out), t -> {
                        seen.add(t.name());
                        return t.dtype() == DType.F32 ? doubled(t) : t;
                    });
            List<String> srcFiles;
            try (Stream<Path> files = Files.list(src)) {
                srcFiles = files.map(p -> p.getFileName().toString()).sorted().toList();
            }
            assertThat(r.files()).containsExactlyInAnyOrderElementsOf(srcFiles);
            assertThat(r.files().get(r.files().size() - 1))
                    .isEqualTo(maxShard == 400 ? "model.safetensors.index.json" : "model.safetensors");
            assertThat(r.tensors()).isEqualTo(model().size());
            long bytes = 0;
            for (String f : srcFiles) {
                bytes += Files.size(out.resolve(f));
            }
            assertThat(r.bytes()).isEqualTo(bytes);
            if (maxShard == 400) {
                assertThat(Files.mismatch(src.resolve("model.safetensors.index.json"),
                        out.resolve("model.safetensors.index.json"))).isEqualTo(-1);
            }
            Map<String, TensorEntry> loaded = Checkpoints.load(new DirectoryModelSource(out));
            Map<String, TensorEntry> expected = new LinkedHashMap<>();
            Checkpoints.load(new DirectoryModelSource(src))
                    .forEach((k, v) -> expected.put(k, v.dtype() == DType.F32 ? doubled(v) : v));
            assertThat(loaded).containsExactlyEntriesOf(expected);
            assertThat(seen).containsExactlyElementsOf(expected.keySet());

            // The identity reproduces every file byte for byte.
            Path same = dir.resolve("same" + maxShard);
            Checkpoints.transform(new DirectoryModelSource(src), new DirectoryModelSink(same), t -> t);
            for (String f : srcFiles) {
                assertThat(Files.mismatch(src.resolve(f), same.resolve(f))).as(f).isEqualTo(-1);
            }
        }
    }

    @Test
    void transformRejectsChangedTensorsAndBadTargets() throws IOException {
        saveSharded();
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> Checkpoints.transform(new DirectoryModelSource(dir), new DirectoryModelSink(out),
                        t -> TensorEntry.ofFloats(t.name(), new long[] {t.numel()}, t.toFloats(), t.dtype())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("model-00001-of-00003.safetensors", "keep each tensor's name, dtype and shape",
                        "'model.layers.9.weight' (BF16, shape [13, 4])", "got 'model.layers.9.weight' (BF16, shape [52])");
        assertThat(out.toFile().list()).as("the failed shard is not published").isEmpty();

        assertThatThrownBy(() -> Checkpoints.transform(new DirectoryModelSource(dir), new DirectoryModelSink(dir), t -> t))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("same location");

        // An inconsistent index fails before anything is written.
        rewriteIndex(map -> map.remove("model.layers.0.weight"));
        Path out2 = dir.resolve("out2");
        assertThatThrownBy(() -> Checkpoints.transform(new DirectoryModelSource(dir), new DirectoryModelSink(out2), t -> t))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("'model.layers.0.weight'", "does not map");
        assertThat(out2).doesNotExist();
    }
}
