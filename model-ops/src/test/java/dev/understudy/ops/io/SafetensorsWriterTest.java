package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    private static byte[] bytesOf(List<TensorEntry> tensors, Map<String, String> metadata) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.write(out, tensors, metadata);
        return out.toByteArray();
    }

    private static List<TensorEntry> allDtypesWithEdgeShapes() {
        List<TensorEntry> tensors = new java.util.ArrayList<>(SafetensorsReaderTest.randomTensors(new Random(42), 5));
        tensors.add(TensorEntry.ofFloats("scalar", new long[] {}, new float[] {Float.NaN}));
        tensors.add(TensorEntry.ofFloats("empty", new long[] {0, 3}, new float[0], DType.BF16));
        return tensors;
    }

    @Test
    void roundTripIsBitExactForEveryDtype() throws IOException {
        List<TensorEntry> tensors = allDtypesWithEdgeShapes();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("round", "3");
        metadata.put("client", "<all>"); // must not be HTML-escaped on the way
        Path file = dir.resolve("rt.safetensors");
        SafetensorsWriter.write(file, tensors, metadata);

        try (SafetensorsFile f = SafetensorsReader.read(file)) {
            assertThat(f.all().values()).containsExactlyElementsOf(tensors);
            assertThat(f.metadata())
                    .containsExactly(Map.entry("format", "pt"), Map.entry("round", "3"), Map.entry("client", "<all>"));
        }
        try (SafetensorsFile f = SafetensorsReader.read(new ByteArrayInputStream(Files.readAllBytes(file)), "rt")) {
            assertThat(f.all().values()).containsExactlyElementsOf(tensors);
        }
    }

    @Test
    void writingIsDeterministic() throws IOException {
        List<TensorEntry> tensors = allDtypesWithEdgeShapes();
        byte[] first = bytesOf(tensors, Map.of("a", "b"));
        byte[] second = bytesOf(allDtypesWithEdgeShapes(), Map.of("a", "b"));
        assertThat(second).isEqualTo(first);
        Path file = dir.resolve("d.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("a", "b"));
        assertThat(Files.readAllBytes(file)).isEqualTo(first);
        // Replacing an existing file leaves no temporary files behind.
        SafetensorsWriter.write(file, tensors, Map.of("a", "b"));
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
    }

    @Test
    void headerIsAlignedPaddedWithSpacesAndDeclaresPytorchFormat() throws IOException {
        List<TensorEntry> tensors = List.of(
                TensorEntry.ofFloats("a", new long[] {3}, new float[] {1f, 2f, 3f}),
                TensorEntry.ofLongs("b", new long[] {1}, new long[] {9}));
        byte[] bytes = bytesOf(tensors, null);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.stripTrailing();
        assertThat(header.substring(json.length())).matches(" {0,7}");
        JsonObject root = JsonParser.parseString(json).getAsJsonObject();
        assertThat(root.getAsJsonObject("__metadata__").get("format").getAsString()).isEqualTo("pt");
        assertThat(root.getAsJsonObject("a").get("data_offsets").toString()).isEqualTo("[0,12]");
        assertThat(root.getAsJsonObject("b").get("data_offsets").toString()).isEqualTo("[12,20]");
        assertThat(root.getAsJsonObject("b").get("dtype").getAsString()).isEqualTo("I64");
        assertThat(bytes.length).isEqualTo(8 + n + 20);
        // The data section starts right after the padded header.
        assertThat(ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat()).isEqualTo(1f);
        // An explicit format is kept, not duplicated.
        try (SafetensorsFile f = SafetensorsReader.read(new ByteArrayInputStream(bytesOf(tensors, Map.of("format", "np"))), "m")) {
            assertThat(f.metadata()).containsExactly(Map.entry("format", "np"));
        }
    }

    @Test
    void sizeOfIsTheExactFileLength() throws IOException {
        List<TensorEntry> tensors = allDtypesWithEdgeShapes();
        assertThat(SafetensorsWriter.sizeOf(tensors)).isEqualTo(bytesOf(tensors, null).length);
        assertThat(SafetensorsWriter.sizeOf(tensors, Map.of("k", "v"))).isEqualTo(bytesOf(tensors, Map.of("k", "v")).length);
        long data = tensors.stream().mapToLong(t -> t.numel() * t.dtype().byteSize()).sum();
        assertThat(SafetensorsWriter.dataSizeOf(tensors)).isEqualTo(data);
    }

    @Test
    void duplicateAndReservedNamesAreRejected() {
        TensorEntry a = TensorEntry.ofFloats("a", new long[] {1}, new float[] {1f});
        assertThatThrownBy(() -> bytesOf(List.of(a, a), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a' appears twice");
        TensorEntry reserved = TensorEntry.ofFloats("__metadata__", new long[] {1}, new float[] {1f});
        assertThatThrownBy(() -> bytesOf(List.of(reserved), null)).hasMessageContaining("reserved");
    }

    @Test
    void failedPathWriteLeavesNoFile() {
        TensorEntry a = TensorEntry.ofFloats("a", new long[] {1}, new float[] {1f});
        Path file = dir.resolve("sub/never.safetensors");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(a, a), null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(file).doesNotExist();
        assertThat(Arrays.asList(file.getParent().toFile().list())).isEmpty();
    }

    @Test
    void streamingWriterProducesTheSameBytesAsWrite() throws IOException {
        List<TensorEntry> tensors = allDtypesWithEdgeShapes();
        Map<String, String> metadata = Map.of("round", "3");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.Streaming w = SafetensorsWriter.streaming(
                out, tensors.stream().map(TensorSpec::of).toList(), metadata);
        int headerBytes = out.size();
        assertThat(headerBytes).as("the header is written before any tensor").isGreaterThan(8);
        for (TensorEntry t : tensors) {
            w.write(t);
        }
        w.finish();
        assertThat(out.toByteArray()).isEqualTo(bytesOf(tensors, metadata));
        assertThat(w.bytesWritten()).isEqualTo(out.size());
        assertThat(w.tensorsWritten()).isEqualTo(tensors.size());
    }

    @Test
    void streamingWriterRejectsTensorsThatDoNotMatchTheHeader() throws IOException {
        TensorEntry a = TensorEntry.ofFloats("a", new long[] {2, 3}, new float[6]);
        TensorEntry b = TensorEntry.ofFloats("b", new long[] {4}, new float[4]);
        List<TensorSpec> header = List.of(TensorSpec.of(a), TensorSpec.of(b));

        SafetensorsWriter.Streaming outOfOrder = SafetensorsWriter.streaming(new ByteArrayOutputStream(), header, null);
        assertThatThrownBy(() -> outOfOrder.write(b))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("Tensor 1", "'a' (F32, shape [2, 3])", "got 'b' (F32, shape [4])");

        SafetensorsWriter.Streaming reshaped = SafetensorsWriter.streaming(new ByteArrayOutputStream(), header, null);
        assertThatThrownBy(() -> reshaped.write(TensorEntry.ofFloats("a", new long[] {3, 2}, new float[6])))
                .hasMessageContainingAll("'a' (F32, shape [2, 3])", "got 'a' (F32, shape [3, 2])");
        assertThatThrownBy(() -> reshaped.write(TensorEntry.ofFloats("a", new long[] {2, 3}, new float[6], DType.BF16)))
                .hasMessageContaining("got 'a' (BF16, shape [2, 3])");

        SafetensorsWriter.Streaming early = SafetensorsWriter.streaming(new ByteArrayOutputStream(), header, null);
        early.write(a);
        assertThatThrownBy(early::finish)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContainingAll("Only 1 of the 2", "'b'");
        early.write(b);
        early.finish();
        assertThatThrownBy(() -> early.write(b))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one too many");
    }
}