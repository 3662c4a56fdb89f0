package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.util.ModelFormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsReaderTest {

    @TempDir
    Path dir;

    // Header entries deliberately not in offset order: names() must follow the offsets.
    private static final String TENSORS_JSON = "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[26,42]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[22,26]},"
            + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]}";

    /** Data for TENSORS_JSON: w = [1,2,3,4]; h = [1, -2, 0.333251953125]; b = [1, -3.140625]; i = [-5, 2^40]. */
    private static byte[] handData() {
        ByteBuffer d = HandBuilt.le(42);
        d.putFloat(1f).putFloat(2f).putFloat(3f).putFloat(4f);
        d.putShort((short) 0x3c00).putShort((short) 0xc000).putShort((short) 0x3555);
        d.putShort((short) 0x3f80).putShort((short) 0xc049);
        d.putLong(-5).putLong(1L << 40);
        return d.array();
    }

    private void assertHandDecoded(SafetensorsFile f) {
        assertThat(f.names()).containsExactly("w", "h", "b", "i");
        assertThat(f.tensor("w").dtype()).isEqualTo(DType.F32);
        assertThat(f.tensor("w").shape()).containsExactly(2, 2);
        assertThat(f.tensor("w").toFloats()).containsExactly(1f, 2f, 3f, 4f);
        assertThat(f.tensor("h").dtype()).isEqualTo(DType.F16);
        assertThat(f.tensor("h").toFloats()).containsExactly(1f, -2f, 0.333251953125f);
        assertThat(f.tensor("b").dtype()).isEqualTo(DType.BF16);
        assertThat(f.tensor("b").toFloats()).containsExactly(1f, -3.140625f);
        assertThat(f.tensor("i").dtype()).isEqualTo(DType.I64);
        assertThat(f.tensor("i").toLongs()).containsExactly(-5L, 1L << 40);
        assertThat(f.all().keySet()).containsExactly("w", "h", "b", "i");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8})
    void handBuiltFileDecodesWithAndWithoutPadding(int padTo) throws IOException {
        String json = "{" + TENSORS_JSON + "}";
        byte[] bytes = HandBuilt.file(json, handData(), padTo);
        if (padTo == 1) {
            // The unpadded case must really be unaligned, like DJL's output, to test anything.
            assertThat(json.length() % 8).isNotZero();
        }
        Path file = HandBuilt.write(dir, "hand.safetensors", bytes);
        try (SafetensorsFile f = SafetensorsReader.read(file)) {
            assertHandDecoded(f);
            assertThat(f.metadata()).isEmpty();
        }
        try (SafetensorsFile f = SafetensorsReader.read(new ByteArrayInputStream(bytes), "hand")) {
            assertHandDecoded(f);
        }
    }

    @Test
    void metadataIsReadInFileOrder() throws IOException {
        String json = "{\"__metadata__\":{\"format\":\"pt\",\"step\":\"7\"}," + TENSORS_JSON + "}";
        Path file = HandBuilt.write(dir, "meta.safetensors", HandBuilt.file(json, handData(), 8));
        try (SafetensorsFile f = SafetensorsReader.read(file)) {
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("step", "7"));
            assertHandDecoded(f);
        }
    }

    @Test
    void scalarAndEmptyTensorsAreAccepted() throws IOException {
        String json = "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                + "\"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        byte[] bytes = HandBuilt.file(json, HandBuilt.le(4).putInt(0, 42).array(), 8);
        try (SafetensorsFile f = SafetensorsReader.read(HandBuilt.write(dir, "s.safetensors", bytes))) {
            assertThat(f.names()).containsExactly("e", "s");
            assertThat(f.tensor("e").numel()).isZero();
            assertThat(f.tensor("s").toLongs()).containsExactly(42L);
        }
    }

    @Test
    void streamHandsOutTensorsInOffsetOrderAndMatchesMmap() throws IOException {
        List<TensorEntry> tensors = randomTensors(new Random(7), 6);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.write(out, tensors, Map.of("k", "v"));
        byte[] bytes = out.toByteArray();
        List<TensorEntry> streamed = new ArrayList<>();
        SafetensorsReader.stream(new ByteArrayInputStream(bytes), "mem", streamed::add);
        Path file = HandBuilt.write(dir, "r.safetensors", bytes);
        try (SafetensorsFile mapped = SafetensorsReader.read(file)) {
            assertThat(streamed).containsExactlyElementsOf(mapped.all().values());
            assertThat(streamed).containsExactlyElementsOf(tensors);
            assertThat(mapped.metadata()).containsEntry("k", "v");
        }
    }

    @Test
    void streamStopsWhenTheConsumerFails() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.write(out, randomTensors(new Random(1), 3), null);
        List<String> seen = new ArrayList<>();
        assertThatThrownBy(() -> SafetensorsReader.stream(new ByteArrayInputStream(out.toByteArray()), "mem", t -> {
                    seen.add(t.name());
                    throw new IOException("disk full");
                }))
                .hasMessage("disk full");
        assertThat(seen).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 7, 24, 64, 100, 1000})
    void mappingInSmallChunksGivesTheSameTensors(long chunkBytes) throws IOException {
        // Sizes chosen to straddle the chunk sizes above: 96, 400 (> every chunk but 1000), 2, 0, 64, 12 bytes.
        List<TensorEntry> tensors = List.of(
                TensorEntry.ofFloats("a", new long[] {24}, floats(24, 1)),
                TensorEntry.ofFloats("big", new long[] {10, 10}, floats(100, 2)),
                TensorEntry.ofFloats("h", new long[] {1}, floats(1, 3), DType.F16),
                TensorEntry.ofFloats("empty", new long[] {0}, new float[0]),
                TensorEntry.ofLongs("l", new long[] {8}, new long[] {1, 2, 3, 4, 5, 6, 7, 8}),
                TensorEntry.ofFloats("c", new long[] {3}, floats(3, 4)));
        Path file = dir.resolve("chunks.safetensors");
        SafetensorsWriter.write(file, tensors, null);
        try (SafetensorsFile f = SafetensorsReader.read(file, chunkBytes)) {
            assertThat(f.all().values()).containsExactlyElementsOf(tensors);
        }
    }

    @Test
    void missingTensorAndUseAfterCloseAreReported() throws IOException {
        Path file = HandBuilt.write(dir, "hand.safetensors", HandBuilt.file("{" + TENSORS_JSON + "}", handData(), 8));
        SafetensorsFile f = SafetensorsReader.read(file);
        TensorEntry w = f.tensor("w");
        assertThatThrownBy(() -> f.tensor("q"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'q'")
                .hasMessageContaining(file.toString())
                .hasMessageContaining("[w, h, b, i]");
        f.close();
        assertThatThrownBy(() -> f.tensor("w")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        // Entries taken before close stay readable: the mapping lives as long as the buffer.
        assertThat(w.toFloats()).containsExactly(1f, 2f, 3f, 4f);
    }

    // ---- malformed files: every error names the file and the problem --------------------------

    /** Asserts that both the mmap and the stream reader reject {@code bytes} with {@code fragments}. */
    private void assertRejected(byte[] bytes, String... fragments) throws IOException {
        Path file = HandBuilt.write(dir, "bad.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsReader.read(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContainingAll(fragments);
        assertThatThrownBy(() -> SafetensorsReader.read(new ByteArrayInputStream(bytes), "stream:bad"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("stream:bad")
                .hasMessageContainingAll(fragments);
    }

    private static byte[] withTensors(String tensorsJson, int dataBytes) {
        return HandBuilt.file("{" + tensorsJson + "}", new byte[dataBytes], 8);
    }

    @Test
    void absurdHeaderLengthIsRejected() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        assertRejected(HandBuilt.file(1L << 40, header, 0, new byte[0]), "header length 1099511627776", "out of range");
        // u64 values >= 2^63 arrive as negative longs and must print as unsigned.
        assertRejected(HandBuilt.file(-1L, header, 0, new byte[0]), "18446744073709551615");
    }

    @Test
    void headerLongerThanTheFileIsRejected() throws IOException {
        byte[] bytes = HandBuilt.file(500, "{}".getBytes(StandardCharsets.UTF_8), 6, new byte[0]);
        Path file = HandBuilt.write(dir, "short.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsReader.read(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(file.toString(), "header length 500 exceeds the 8 bytes");
        assertThatThrownBy(() -> SafetensorsReader.read(new ByteArrayInputStream(bytes), "s3://m/short"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("s3://m/short", "8 of the 500 header bytes", "truncated");
    }

    @Test
    void fileShorterThanTheLengthPrefixIsRejected() throws IOException {
        assertRejected(new byte[] {1, 2, 3}, "8-byte");
    }

    @Test
    void nonJsonHeaderIsRejectedWithThePosition() throws IOException {
        assertRejected(HandBuilt.file("{\"w\": dtype}", new byte[0], 8), "not valid JSON", "line 1 column");
        assertRejected(HandBuilt.file("not json at all", new byte[0], 8), "not valid JSON");
        assertRejected(HandBuilt.file("[1,2]", new byte[0], 8), "must be a JSON object");
        assertRejected(HandBuilt.file("{} {}", new byte[0], 8), "not valid JSON");
        byte[] invalidUtf8 = HandBuilt.file(6, new byte[] {'{', '"', (byte) 0xc3, '"', ':', '}'}, 2, new byte[0]);
        assertRejected(invalidUtf8, "not valid UTF-8");
    }

    @Test
    void incompleteEntriesAreRejected() throws IOException {
        assertRejected(withTensors("\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}", 4), "'w'", "no 'dtype' field");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", 4), "'w'", "no 'shape' field");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[1]}", 4), "'w'", "no 'data_offsets' field");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}", 1),
                "'w'", "'F8_E4M3'");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", 4),
                "shape of tensor 'w'", "non-negative");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}", 4),
                "shape of tensor 'w'");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}", 4),
                "data_offsets of tensor 'w'", "array of 2");
        assertRejected(withTensors("\"w\":3", 0), "'w'", "must be a JSON object");
        assertRejected(HandBuilt.file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], 8), "'w' twice");
    }

    @Test
    void badOffsetsAreRejected() throws IOException {
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}", 12),
                "'w'", "needs 16 bytes", "[0, 12]", "span 12");
        assertRejected(withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}", 8),
                "'w'", "begin after end");
        assertRejected(withTensors("\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}", 12), "'a' [0, 8]", "'b' [4, 12]", "overlap");
        assertRejected(withTensors("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}", 12), "bytes [4, 8)", "not covered");
        assertRejected(withTensors("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}", 8),
                "bytes [0, 4)", "not covered");
    }

    @Test
    void offsetsBeyondTheFileAreRejected() throws IOException {
        byte[] bytes = withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]}", 32);
        Path file = HandBuilt.write(dir, "beyond.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsReader.read(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(file.toString(), "'w'", "[0, 64]", "beyond the end of the data section (32 bytes)");
        // A stream does not know its length up front; it fails when the data runs out.
        assertThatThrownBy(() -> SafetensorsReader.read(new ByteArrayInputStream(bytes), "hdfs://nn/beyond"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("hdfs://nn/beyond", "ended inside tensor 'w'", "truncated");
    }

    @Test
    void truncatedFileIsRejected() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.write(out, List.of(TensorEntry.ofFloats("a", new long[] {4}, floats(4, 0)),
                TensorEntry.ofFloats("z", new long[] {4}, floats(4, 1))), null);
        byte[] full = out.toByteArray();
        byte[] cut = Arrays.copyOf(full, full.length - 3);
        Path file = HandBuilt.write(dir, "cut.safetensors", cut);
        assertThatThrownBy(() -> SafetensorsReader.read(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(file.toString(), "'z'", "truncated");
        List<String> consumed = new ArrayList<>();
        assertThatThrownBy(() -> SafetensorsReader.stream(new ByteArrayInputStream(cut), "cut", t -> consumed.add(t.name())))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("cut:", "ended inside tensor 'z'", "truncated");
        assertThat(consumed).containsExactly("a");
    }

    @Test
    void trailingBytesAfterTheLastTensorAreRejected() throws IOException {
        byte[] bytes = withTensors("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 10);
        Path file = HandBuilt.write(dir, "trailing.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsReader.read(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(file.toString(), "10 bytes", "[0, 4)", "6 trailing bytes");
        assertThatThrownBy(() -> SafetensorsReader.read(new ByteArrayInputStream(bytes), "trailing"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("trailing:", "continues after the last tensor");
    }

    @Test
    void metadataMustMapStringsToStrings() throws IOException {
        assertRejected(HandBuilt.file("{\"__metadata__\":{\"step\":3}}", new byte[0], 8), "__metadata__", "'step'", "string");
        assertRejected(HandBuilt.file("{\"__metadata__\":[1]}", new byte[0], 8), "__metadata__", "object");
    }

    // ---- helpers -------------------------------------------------------------------------------

    static float[] floats(int n, int seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** Tensors of every dtype with random bytes (any bit pattern, NaNs included). */
    static List<TensorEntry> randomTensors(Random r, int dims) {
        List<TensorEntry> out = new ArrayList<>();
        for (DType t : DType.values()) {
            long[] shape = {1 + r.nextInt(dims), 1 + r.nextInt(dims)};
            byte[] bytes = new byte[(int) (shape[0] * shape[1] * t.byteSize())];
            r.nextBytes(bytes);
            out.add(TensorEntry.ofBytes("layer." + t.name().toLowerCase() + ".weight", t, shape, bytes));
        }
        return out;
    }

}
