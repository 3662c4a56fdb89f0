package dev.understudy.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.io.Checkpoints;
import dev.understudy.ops.io.DType;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.io.TensorSpec;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.ModelConfigs;
import dev.understudy.ops.testing.TinyModels;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import dev.understudy.ops.util.ModelFormatException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LoraMergeTest {
    static NDManager root;

    static final TokenizerSpec TOKENIZER = TokenizerSpec.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));

    static final List<String> LLAMA_ALL = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    static final List<String> GPT2_ALL = List.of("c_attn", "c_proj", "c_fc");

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    static Stream<Object[]> cases() {
        return Stream.of(
                new Object[] {TinyModels.llamaGqa(), LLAMA_ALL},
                new Object[] {TinyModels.qwen2Tied(), List.of("q_proj", "v_proj")},
                new Object[] {TinyModels.gpt2(), GPT2_ALL});
    }

    /** A base model directory: perturbed random weights in {@code dtype}, config.json and tokenizer files. */
    static void writeBase(ModelConfig c, Path dir, DType dtype, long maxShardBytes) throws IOException {
        try (NDManager m = root.newSubManager(); DecoderModel model = TinyModels.createPerturbed(c, 1, m, DataType.FLOAT32)) {
            HfModels.save(model, new DirectoryModelSink(dir), dtype, maxShardBytes);
        }
        TOKENIZER.writeTo(dir);
    }

    static List<String> filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Every file of {@code expected} exists in {@code actual} with the same bytes, and nothing else does. */
    static void assertSameFiles(Path expected, Path actual) throws IOException {
        assertThat(filesIn(actual)).containsExactlyElementsOf(filesIn(expected));
        for (String f : filesIn(expected)) {
            assertThat(Files.mismatch(expected.resolve(f), actual.resolve(f))).as("first differing byte of %s", f)
                    .isEqualTo(-1);
        }
    }

    /** The reference: the in-memory path, {@link LoraAdapter#mergeInto} then {@link HfModels#save}. */
    static void mergeInMemory(DecoderModel model, LoraAdapter lora, Path out, DType dtype, long maxShardBytes)
            throws IOException {
        lora.mergeInto(model);
        try {
            HfModels.save(model, new DirectoryModelSink(out), dtype, maxShardBytes);
        } finally {
            lora.unmergeFrom(model);
        }
    }

    // The tests use alpha 7 at rank 4: a scale of 1.75 is not a power of two, so scaling rounds and
    // an export that fused the multiply-add (or scaled after adding) would not match bit for bit.

    @ParameterizedTest
    @MethodSource("cases")
    void streamedExportEqualsTheInMemoryMergeBitForBit(ModelConfig c, List<String> targets, @TempDir Path dir)
            throws IOException {
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        Path streamed = dir.resolve("streamed");
        Path inMemory = dir.resolve("in-memory");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, targets), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            NDArray ids = LoraTest.ids(m, c.vocabSize());
            float[] baseLogits = model.forward(ids).toFloatArray();
            float[] adapted = model.forward(ids, null, null, null, lora, null).toFloatArray();
            assertThat(LoraTest.maxAbsDiff(adapted, baseLogits)).as("the adapter must change the output").isGreaterThan(1e-3);

            LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));

            // Tensors: the whole weights file equals the in-memory merge's, byte for byte.
            mergeInMemory(model, lora, inMemory, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
            assertThat(Files.mismatch(inMemory.resolve("model.safetensors"), streamed.resolve("model.safetensors")))
                    .isEqualTo(-1);
            Map<String, TensorEntry> before = Checkpoints.load(new DirectoryModelSource(base));
            Map<String, TensorEntry> after = Checkpoints.load(new DirectoryModelSource(streamed));
            assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
            for (String name : before.keySet()) {
                boolean adaptedTensor = lora.modules().containsKey(name.substring(0, name.length() - ".weight".length()))
                        && name.endsWith(".weight");
                if (adaptedTensor) {
                    assertThat(after.get(name)).as(name).isNotEqualTo(before.get(name));
                } else {
                    assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
                }
            }

            // The exported directory is a complete model whose logits are base + adapter's.
            try (DecoderModel merged = HfModels.load(streamed, m, DataType.FLOAT32)) {
                assertThat(LoraTest.maxAbsDiff(merged.forward(ids).toFloatArray(), adapted)).isLessThan(1e-5);
            }
            for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
                assertThat(Files.mismatch(base.resolve(f), streamed.resolve(f))).as(f).isEqualTo(-1);
            }
            assertThat(filesIn(streamed)).containsExactlyElementsOf(filesIn(base));

            assertThat(r.mergedModules()).isEqualTo(lora.modules().size());
            assertThat(r.tensorsWritten()).isEqualTo(before.size());
            assertThat(r.files()).containsExactlyInAnyOrderElementsOf(filesIn(streamed));
            assertThat(r.files().get(r.files().size() - 1)).isEqualTo("config.json");
            long bytes = 0;
            for (String f : filesIn(streamed)) {
                bytes += Files.size(streamed.resolve(f));
            }
            assertThat(r.bytesWritten()).isEqualTo(bytes);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void shardedBaseKeepsItsShardsAndIndex(ModelConfig c, List<String> targets, @TempDir Path dir) throws IOException {
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, 20_000);
        assertThat(filesIn(base)).contains("model.safetensors.index.json").doesNotContain("model.safetensors");
        assertThat(filesIn(base).stream().filter(f -> f.matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count())
                .isGreaterThanOrEqualTo(3);
        Path streamed = dir.resolve("streamed");
        Path inMemory = dir.resolve("in-memory");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, targets), 3, m)) {
            LoraTest.randomiseB(lora, 5);
            NDArray ids = LoraTest.ids(m, c.vocabSize());
            float[] adapted = model.forward(ids, null, null, null, lora, null).toFloatArray();
            LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));
            assertThat(r.files().subList(r.files().size() - 2, r.files().size()))
                    .containsExactly("model.safetensors.index.json", "config.json");
            assertThat(Files.mismatch(base.resolve("model.safetensors.index.json"),
                    streamed.resolve("model.safetensors.index.json"))).isEqualTo(-1);

            // The in-memory reference, saved with the same shard limit, has the same shards byte for byte.
            mergeInMemory(model, lora, inMemory, DType.F32, 20_000);
            for (String f : filesIn(inMemory)) {
                assertThat(Files.mismatch(inMemory.resolve(f), streamed.resolve(f))).as(f).isEqualTo(-1);
            }
            try (DecoderModel merged = HfModels.load(streamed, m, DataType.FLOAT32)) {
                assertThat(LoraTest.maxAbsDiff(merged.forward(ids).toFloatArray(), adapted)).isLessThan(1e-5);
            }
        }
    }

    static Stream<Object[]> halfCases() {
        List<Object[]> out = new ArrayList<>();
        for (DType dt : List.of(DType.F16, DType.BF16)) {
            out.add(new Object[] {TinyModels.llamaGqa(), LLAMA_ALL, dt});
            out.add(new Object[] {TinyModels.gpt2(), GPT2_ALL, dt});
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("halfCases")
    void halfPrecisionBasesStayInTheirDtype(ModelConfig c, List<String> targets, DType dtype, @TempDir Path dir)
            throws IOException {
        Path base = dir.resolve("base");
        writeBase(c, base, dtype, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        Path streamed = dir.resolve("streamed");
        Path inMemory = dir.resolve("in-memory");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32); // widened exactly
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, targets), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));
            assertThat(r.mergedModules()).isEqualTo(lora.modules().size());
            for (TensorSpec s : Checkpoints.specs(new DirectoryModelSource(streamed)).values()) {
                assertThat(s.dtype()).as(s.name()).isEqualTo(dtype);
            }
            // Widen, merge in float32, round once to nearest even: the in-memory path saved in the same dtype.
            mergeInMemory(model, lora, inMemory, dtype, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
            assertThat(Files.mismatch(inMemory.resolve("model.safetensors"), streamed.resolve("model.safetensors")))
                    .isEqualTo(-1);
            // ... and the adapter survives the rounding.
            Map<String, TensorEntry> before = Checkpoints.load(new DirectoryModelSource(base));
            Map<String, TensorEntry> after = Checkpoints.load(new DirectoryModelSource(streamed));
            for (String module : lora.modules().keySet()) {
                assertThat(after.get(module + ".weight")).as(module).isNotEqualTo(before.get(module + ".weight"));
            }
        }
    }

    @Test
    void mixedDtypesArePreservedTensorByTensor(@TempDir Path dir) throws IOException {
        // Norms in F32, everything else in BF16, as some exporters keep norms in full precision.
        ModelConfig c = TinyModels.llamaGqa();
        Path base = dir.resolve("base");
        Map<String, HostTensor> host;
        try (NDManager m = root.newSubManager(); DecoderModel model = TinyModels.createPerturbed(c, 1, m, DataType.FLOAT32)) {
            host = model.exportTensors();
        }
        List<TensorEntry> entries = new ArrayList<>();
        host.forEach((name, t) -> entries.add(TensorEntry.ofFloats(name, t.shape(), t.values(),
                name.contains("norm") ? DType.F32 : DType.BF16)));
        Checkpoints.save(new DirectoryModelSink(base), entries, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        JsonFiles.write(new DirectoryModelSink(base), "config.json", ModelConfigs.toJson(c));

        Path streamed = dir.resolve("streamed");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, LLAMA_ALL), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));
            lora.mergeInto(model);
            Map<String, HostTensor> merged = model.exportTensors();
            Map<String, TensorEntry> before = Checkpoints.load(new DirectoryModelSource(base));
            Map<String, TensorEntry> after = Checkpoints.load(new DirectoryModelSource(streamed));
            assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
            for (String name : before.keySet()) {
                TensorEntry src = before.get(name);
                assertThat(after.get(name).dtype()).as(name).isEqualTo(src.dtype());
                String module = name.substring(0, name.length() - ".weight".length());
                if (lora.modules().containsKey(module)) {
                    HostTensor ref = merged.get(name);
                    assertThat(after.get(name)).as(name).isEqualTo(TensorEntry.ofFloats(name, ref.shape(), ref.values(), src.dtype()));
                } else {
                    assertThat(after.get(name)).as(name).isEqualTo(src);
                }
            }
        }
    }

    @Test
    void f64BasesAreMergedInDoublePrecision(@TempDir Path dir) throws IOException {
        ModelConfig c = TinyModels.gpt2();
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F64, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        Path streamed = dir.resolve("streamed");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, GPT2_ALL), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));
            Map<String, TensorEntry> before = Checkpoints.load(new DirectoryModelSource(base));
            Map<String, TensorEntry> after = Checkpoints.load(new DirectoryModelSource(streamed));
            float scale = (float) lora.config().scale();
            for (String module : lora.modules().keySet()) {
                String name = module + ".weight";
                assertThat(after.get(name).dtype()).isEqualTo(DType.F64);
                double[] w = before.get(name).toDoubles(); // Conv1D: (in, out)
                float[] delta = lora.loraB(module).matMul(lora.loraA(module)).toFloatArray(); // (out, in)
                int in = lora.modules().get(module).inFeatures();
                int out = lora.modules().get(module).outFeatures();
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        w[i * out + o] += delta[o * in + i] * scale;
                    }
                }
                assertThat(after.get(name).toDoubles()).as(name).isEqualTo(w);
            }
            NDArray ids = LoraTest.ids(m, c.vocabSize());
            float[] adapted = model.forward(ids, null, null, null, lora, null).toFloatArray();
            try (DecoderModel merged = HfModels.load(streamed, m, DataType.FLOAT32)) {
                assertThat(LoraTest.maxAbsDiff(merged.forward(ids).toFloatArray(), adapted)).isLessThan(1e-5);
            }
        }
    }

    @Test
    void legacyGpt2NamesWithoutTheTransformerPrefixAreMergedAndKept(@TempDir Path dir) throws IOException {
        ModelConfig c = TinyModels.gpt2();
        Path base = dir.resolve("base");
        List<TensorEntry> entries = new ArrayList<>();
        try (NDManager m = root.newSubManager(); DecoderModel model = TinyModels.createPerturbed(c, 1, m, DataType.FLOAT32)) {
            model.exportTensors().forEach((name, t) -> entries.add(TensorEntry.ofFloats(
                    name.startsWith("transformer.") ? name.substring("transformer.".length()) : name, t.shape(), t.values())));
        }
        Checkpoints.save(new DirectoryModelSink(base), entries, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        JsonFiles.write(new DirectoryModelSink(base), "config.json", ModelConfigs.toJson(c));
        Path streamed = dir.resolve("streamed");
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, GPT2_ALL), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(streamed));
            assertThat(r.mergedModules()).isEqualTo(lora.modules().size());
            assertThat(Checkpoints.specs(new DirectoryModelSource(streamed)).keySet())
                    .containsExactlyElementsOf(entries.stream().map(TensorEntry::name).toList())
                    .contains("h.0.attn.c_attn.weight");
            NDArray ids = LoraTest.ids(m, c.vocabSize());
            float[] adapted = model.forward(ids, null, null, null, lora, null).toFloatArray();
            try (DecoderModel merged = HfModels.load(streamed, m, DataType.FLOAT32)) {
                assertThat(LoraTest.maxAbsDiff(merged.forward(ids).toFloatArray(), adapted)).isLessThan(1e-5);
            }
        }
    }

    @Test
    void peftDirectoriesAndPeftKeysGiveTheSameModel(@TempDir Path dir) throws IOException {
        ModelConfig c = TinyModels.gpt2();
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 6, 0.05, List.of("c_attn", "mlp.c_proj")), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            Path fromAdapter = dir.resolve("from-adapter");
            LoraMerge.export(new DirectoryModelSource(base), lora, new DirectoryModelSink(fromAdapter));

            Path adapterDir = dir.resolve("adapter");
            PeftAdapters.save(lora, c, new DirectoryModelSink(adapterDir), "base");
            Path fromPeftDir = dir.resolve("from-peft-dir");
            LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(base), new DirectoryModelSource(adapterDir),
                    new DirectoryModelSink(fromPeftDir));
            assertThat(r.mergedModules()).isEqualTo(2 * 2); // c_attn and mlp.c_proj in two layers
            assertSameFiles(fromAdapter, fromPeftDir);

            Map<String, HostTensor> peftKeyed = new LinkedHashMap<>();
            lora.exportTensors().forEach((k, v) -> {
                String module = k.substring(0, k.lastIndexOf('.'));
                peftKeyed.put(PeftAdapters.peftKey(module, k.endsWith("lora_A") ? "A" : "B"), v);
            });
            Path fromPeftKeys = dir.resolve("from-peft-keys");
            LoraMerge.export(new DirectoryModelSource(base), lora.config(), peftKeyed, new DirectoryModelSink(fromPeftKeys));
            assertSameFiles(fromAdapter, fromPeftKeys);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Streaming: the export never holds more than one tensor of the base ahead of its output.

    /** Bytes read from open source streams and written to open sink streams, and the largest gap seen. */
    static final class IoMeter {
        private final Map<Object, long[]> openReads = new LinkedHashMap<>();
        private final Map<Object, long[]> openWrites = new LinkedHashMap<>();
        long maxLag;
        long totalRead;

        synchronized void read(Object stream, long n) {
            openReads.computeIfAbsent(stream, k -> new long[1])[0] += n;
            totalRead += n;
            update();
        }

        synchronized void wrote(Object stream, long n) {
            openWrites.computeIfAbsent(stream, k -> new long[1])[0] += n;
            update();
        }

        synchronized void closed(Object stream) {
            openReads.remove(stream);
            openWrites.remove(stream);
        }

        /** Read but not yet written, over the streams open now: what the code in between must hold. */
        private void update() {
            long lag = 0;
            for (long[] r : openReads.values()) {
                lag += r[0];
            }
            for (long[] w : openWrites.values()) {
                lag -= w[0];
            }
            maxLag = Math.max(maxLag, lag);
        }

        ModelSource wrap(ModelSource source) {
            IoMeter meter = this;
            return new ModelSource() {
                @Override
                public InputStream open(String relativePath) throws IOException {
                    return new FilterInputStream(source.open(relativePath)) {
                        @Override
                        public int read() throws IOException {
                            int b = super.read();
                            meter.read(this, b < 0 ? 0 : 1);
                            return b;
                        }

                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            int n = super.read(b, off, len);
                            meter.read(this, Math.max(n, 0));
                            return n;
                        }

                        @Override
                        public long skip(long n) {
                            throw new UnsupportedOperationException("skip");
                        }

                        @Override
                        public void close() throws IOException {
                            meter.closed(this);
                            super.close();
                        }
                    };
                }

                @Override
                public boolean exists(String relativePath) throws IOException {
                    return source.exists(relativePath);
                }

                @Override
                public String describe() {
                    return source.describe();
                }
            };
        }

        ModelSink wrap(ModelSink sink) {
            IoMeter meter = this;
            return new ModelSink() {
                @Override
                public OutputStream create(String relativePath) throws IOException {
                    OutputStream out = sink.create(relativePath);
                    return new FilterOutputStream(out) {
                        @Override
                        public void write(int b) throws IOException {
                            out.write(b);
                            meter.wrote(this, 1);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            out.write(b, off, len);
                            meter.wrote(this, len);
                        }

                        @Override
                        public void close() throws IOException {
                            meter.closed(this);
                            super.close();
                        }
                    };
                }

                @Override
                public String describe() {
                    return sink.describe();
                }
            };
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void exportHoldsAtMostOneTensorOfTheBaseAtATime(ModelConfig c, List<String> targets, @TempDir Path dir)
            throws IOException {
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        Map<String, TensorSpec> specs = Checkpoints.specs(new DirectoryModelSource(base));
        long largestTensor = specs.values().stream().mapToLong(TensorSpec::byteSize).max().orElseThrow();
        long totalData = specs.values().stream().mapToLong(TensorSpec::byteSize).sum();
        long weightsFile = Files.size(base.resolve("model.safetensors"));
        long header = weightsFile - totalData; // 8-byte length + JSON header
        // Small files are copied through transferTo's 8 KiB buffer.
        long bound = Math.max(Math.max(largestTensor, header), 8192);
        assertThat(totalData).as("a buffering export would show a lag of the whole model").isGreaterThan(4 * bound);

        IoMeter meter = new IoMeter();
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 7, 0, targets), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            Path streamed = dir.resolve("streamed");
            LoraMerge.export(meter.wrap(new DirectoryModelSource(base)), lora, meter.wrap(new DirectoryModelSink(streamed)));
            assertThat(meter.totalRead).as("the whole base was read").isGreaterThanOrEqualTo(weightsFile);
            assertThat(meter.maxLag).as("bytes read from the base but not yet written").isPositive()
                    .isLessThanOrEqualTo(bound);

            Path inMemory = dir.resolve("in-memory");
            mergeInMemory(model, lora, inMemory, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
            assertThat(Files.mismatch(inMemory.resolve("model.safetensors"), streamed.resolve("model.safetensors")))
                    .isEqualTo(-1);
        }
    }

    @Test
    void theMeterCatchesAnExportThatBuffersTheModel(@TempDir Path dir) throws IOException {
        // Control for the test above: a load-everything-then-save copy shows a lag of the whole model.
        Path base = dir.resolve("base");
        writeBase(TinyModels.gpt2(), base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        IoMeter meter = new IoMeter();
        ModelSource src = meter.wrap(new DirectoryModelSource(base));
        ModelSink sink = meter.wrap(new DirectoryModelSink(dir.resolve("copy")));
        List<TensorEntry> all = new ArrayList<>();
        try (InputStream in = src.open("model.safetensors")) {
            dev.understudy.ops.io.SafetensorsReader.stream(in, "base", all::add);
            Checkpoints.save(sink, all, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        }
        assertThat(meter.maxLag).isGreaterThanOrEqualTo(Files.size(base.resolve("model.safetensors")) - 8192);
    }

    // ---------------------------------------------------------------------------------------------
    // Errors: named, and raised before anything is written.

    @Test
    void adapterThatDoesNotFitTheBaseIsRejectedByName(@TempDir Path dir) throws IOException {
        ModelConfig c = TinyModels.llamaGqa();
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        Path out = dir.resolve("out");
        DirectoryModelSource src = new DirectoryModelSource(base);
        try (NDManager m = root.newSubManager();
                DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj")), 2, m)) {
            LoraTest.randomiseB(lora, 9);
            LoraConfig config = lora.config();
            Map<String, HostTensor> good = lora.exportTensors();
            String q0 = "model.layers.0.self_attn.q_proj";

            // A module the base does not have (layer 7 of a 2-layer model), in PEFT spelling.
            Map<String, HostTensor> unknown = edit(good, t -> {
                t.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", good.get(q0 + ".lora_A"));
                t.put("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight", good.get(q0 + ".lora_B"));
            });
            assertThatThrownBy(() -> LoraMerge.export(src, config, unknown, new DirectoryModelSink(out)))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContainingAll("'base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight'",
                            "matches no tensor of the base model", "model.layers.7.self_attn.q_proj.weight");

            // lora_A of the wrong width: names the adapter tensor, the base tensor and both shapes.
            Map<String, HostTensor> narrow = edit(good, t -> t.put(q0 + ".lora_A", new HostTensor(new long[] {4, 16}, new float[64])));
            assertThatThrownBy(() -> LoraMerge.export(src, config, narrow, new DirectoryModelSink(out)))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContainingAll("'" + q0 + ".lora_A' has shape [4, 16]",
                            "base tensor '" + q0 + ".weight' has shape [32, 32]", "must be [r, in] = [4, 32]");

            // Factors of another rank than the config's.
            Map<String, HostTensor> rank8 = edit(good, t -> {
                t.put(q0 + ".lora_A", new HostTensor(new long[] {8, 32}, new float[256]));
                t.put(q0 + ".lora_B", new HostTensor(new long[] {32, 8}, new float[256]));
            });
            assertThatThrownBy(() -> LoraMerge.export(src, config, rank8, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("[8, 32]", "with rank 4");

            Map<String, HostTensor> noB = edit(good, t -> t.remove(q0 + ".lora_B"));
            assertThatThrownBy(() -> LoraMerge.export(src, config, noB, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("module " + q0, "no lora_B");

            Map<String, HostTensor> odd = edit(good, t -> t.put(q0 + ".lora_C", good.get(q0 + ".lora_A")));
            assertThatThrownBy(() -> LoraMerge.export(src, config, odd, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("'" + q0 + ".lora_C'", "is not a LoRA factor");

            Map<String, HostTensor> embedding = edit(good, t -> {
                t.put("model.embed_tokens.lora_A", new HostTensor(new long[] {4, 32}, new float[128]));
                t.put("model.embed_tokens.lora_B", new HostTensor(new long[] {64, 4}, new float[256]));
            });
            assertThatThrownBy(() -> LoraMerge.export(src, config, embedding, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("'model.embed_tokens.lora_A'", "not a linear projection");

            LoraConfig qOnly = new LoraConfig(4, 8, 0, List.of("q_proj"));
            assertThatThrownBy(() -> LoraMerge.export(src, qOnly, good, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("v_proj", "target_modules=[q_proj] does not select");
            Map<String, HostTensor> layer0Only = edit(good, t -> t.keySet().removeIf(k -> k.contains("layers.1.")));
            assertThatThrownBy(() -> LoraMerge.export(src, config, layer0Only, new DirectoryModelSink(out)))
                    .hasMessageContainingAll("lacks lora_A/lora_B for module model.layers.1.self_attn.q_proj");

            assertThatThrownBy(() -> LoraMerge.export(src, config, good, new DirectoryModelSink(base)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("over its base");
        }
        assertThat(out).as("nothing is written when the adapter does not fit").doesNotExist();
    }

    @Test
    void gpt2ShapeErrorsNameTheConv1dLayout(@TempDir Path dir) throws IOException {
        ModelConfig c = TinyModels.gpt2();
        Path base = dir.resolve("base");
        writeBase(c, base, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        String fc = "transformer.h.0.mlp.c_fc";
        Map<String, HostTensor> factors = new LinkedHashMap<>();
        // A transposed B ([r, out] instead of [out, r]), as someone ignoring fan_in_fan_out might produce.
        factors.put(fc + ".lora_A", new HostTensor(new long[] {4, 32}, new float[128]));
        factors.put(fc + ".lora_B", new HostTensor(new long[] {4, 128}, new float[512]));
        LoraConfig config = new LoraConfig(4, 8, 0, List.of(fc));
        assertThatThrownBy(() -> LoraMerge.export(new DirectoryModelSource(base), config, factors,
                        new DirectoryModelSink(dir.resolve("out"))))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("'" + fc + ".lora_B' has shape [4, 128]", "'" + fc + ".weight' has shape [32, 128]",
                        "GPT-2 Conv1D [in, out]", "[out, r] = [128, 4]");
    }

    static Map<String, HostTensor> edit(Map<String, HostTensor> t, Consumer<Map<String, HostTensor>> change) {
        Map<String, HostTensor> copy = new LinkedHashMap<>(t);
        change.accept(copy);
        return copy;
    }

    @Test
    void keysAreParsedInBothSpellings() {
        assertThat(LoraMerge.parseKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"))
                .containsExactly("model.layers.0.self_attn.q_proj", "A");
        assertThat(LoraMerge.parseKey("transformer.h.1.attn.c_attn.lora_B")).containsExactly("transformer.h.1.attn.c_attn", "B");
        assertThat(LoraMerge.parseKey("base_model.model.x.lora_A")).isNull(); // PEFT keys end in .weight
        assertThat(LoraMerge.parseKey("lora_A")).isNull();
        assertThat(LoraMerge.parseKey("model.layers.0.self_attn.q_proj.weight")).isNull();
    }
}
