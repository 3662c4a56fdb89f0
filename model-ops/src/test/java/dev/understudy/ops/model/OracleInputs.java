package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reading the oracle fixtures' padded batches (input ids, attention mask, position ids as JSON
 * arrays) and comparing [B, T, width] outputs at real tokens: shared by the transformers, derived-model
 * and PEFT round-trip oracle tests.
 */
public final class OracleInputs {
    private OracleInputs() {}

    public static JsonObject json(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    /** The [B, T] int64 array stored under {@code key}. */
    public static NDArray ids(JsonObject in, String key, NDManager m) {
        long[][] x = longs(in.getAsJsonArray(key));
        return Ops.fromLongs(m, Arrays.stream(x).flatMapToLong(Arrays::stream).toArray(), new Shape(x.length, x[0].length));
    }

    /** Max |got − want| over [B, T, width] arrays, at positions whose attention mask is 1. */
    public static double maskedMaxDiff(float[] got, float[] want, JsonObject in, int width) {
        long[][] mask = longs(in.getAsJsonArray("attention_mask"));
        int t = mask[0].length;
        assertThat(got).hasSameSizeAs(want);
        assertThat(want.length).isEqualTo(mask.length * t * width);
        double diff = 0;
        for (int b = 0; b < mask.length; b++) {
            for (int ti = 0; ti < t; ti++) {
                for (int k = 0; mask[b][ti] == 1 && k < width; k++) {
                    int idx = (b * t + ti) * width + k;
                    diff = Math.max(diff, Math.abs(got[idx] - want[idx]));
                }
            }
        }
        return diff;
    }

    static long[][] longs(JsonArray rows) {
        long[][] out = new long[rows.size()][];
        for (int r = 0; r < out.length; r++) {
            JsonArray a = rows.get(r).getAsJsonArray();
            out[r] = new long[a.size()];
            for (int i = 0; i < a.size(); i++) {
                out[r][i] = a.get(i).getAsLong();
            }
        }
        return out;
    }
}
