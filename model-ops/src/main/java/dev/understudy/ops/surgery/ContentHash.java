package dev.understudy.ops.surgery;

import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * SHA-256 of a model's weights as values (not of a file): tensors in name order, each as its
 * name, shape and little-endian float32 values. The same weights hash the same whether they were
 * stored as one file, shards, F32 or widened from F16.
 */
public final class ContentHash {
    private ContentHash() {}

    public static String sha256(Map<String, HostTensor> tensors) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, HostTensor> e : new TreeMap<>(tensors).entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            ByteBuffer shape = ByteBuffer.allocate(8 * (e.getValue().shape().length + 1)).order(ByteOrder.LITTLE_ENDIAN);
            shape.putLong(e.getValue().shape().length);
            for (long d : e.getValue().shape()) {
                shape.putLong(d);
            }
            md.update(shape.array());
            float[] v = e.getValue().values();
            for (int i = 0; i < v.length; ) {
                buf.clear();
                int n = Math.min(v.length - i, buf.capacity() / 4);
                for (int k = 0; k < n; k++) {
                    buf.putFloat(v[i + k]);
                }
                md.update(buf.array(), 0, n * 4);
                i += n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
