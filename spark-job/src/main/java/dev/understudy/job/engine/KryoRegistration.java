package dev.understudy.job.engine;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import dev.understudy.ops.federation.WeightedMean;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Kryo registration of the round payloads ({@code spark.kryo.registrator}). Records and immutable
 * lists have no no-arg constructor for Kryo's field serializer, so each payload has a hand-written
 * serializer; tensors travel as raw float32 arrays (4 bytes per value, no per-element framing), so
 * the bytes on the wire match the reported payload size plus a few header bytes per client.
 */
public final class KryoRegistration implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(float[].class);
        kryo.register(int[].class);
        kryo.register(ClientData.Tokens.class, new TokensSerializer());
        kryo.register(ClientData.class, new ClientDataSerializer());
        kryo.register(ClientResult.class, new ClientResultSerializer());
        kryo.register(EvalFunction.ClientEval.class, new ClientEvalSerializer());
        kryo.register(GenerationEvalFunction.ClientGeneration.class, new JavaSerializer()); // a few per evaluation
        kryo.register(ClientData.TokenizedRow.class, new TokenizedSerializer());
        kryo.register(WeightedMean.class, new JavaSerializer());
        kryo.register(RoundEngine.RoundAccumulator.class, new JavaSerializer());
    }

    static final class TokensSerializer extends Serializer<ClientData.Tokens> {
        @Override
        public void write(Kryo kryo, Output out, ClientData.Tokens t) {
            out.writeInt(t.ids().length, true);
            out.writeInts(t.ids());
            out.writeInt(t.promptLength(), true);
        }

        @Override
        public ClientData.Tokens read(Kryo kryo, Input in, Class<ClientData.Tokens> type) {
            int n = in.readInt(true);
            int[] ids = in.readInts(n);
            return new ClientData.Tokens(ids, in.readInt(true));
        }
    }

    static final class ClientDataSerializer extends Serializer<ClientData> {
        private final TokensSerializer tokens = new TokensSerializer();

        @Override
        public void write(Kryo kryo, Output out, ClientData d) {
            out.writeString(d.clientId());
            writeList(kryo, out, d.train());
            writeList(kryo, out, d.eval());
        }

        private void writeList(Kryo kryo, Output out, List<ClientData.Tokens> l) {
            out.writeInt(l.size(), true);
            for (ClientData.Tokens t : l) {
                tokens.write(kryo, out, t);
            }
        }

        private List<ClientData.Tokens> readList(Kryo kryo, Input in) {
            int n = in.readInt(true);
            List<ClientData.Tokens> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                l.add(tokens.read(kryo, in, ClientData.Tokens.class));
            }
            return l;
        }

        @Override
        public ClientData read(Kryo kryo, Input in, Class<ClientData> type) {
            String id = in.readString();
            return new ClientData(id, readList(kryo, in), readList(kryo, in));
        }
    }

    static final class ClientResultSerializer extends Serializer<ClientResult> {
        @Override
        public void write(Kryo kryo, Output out, ClientResult r) {
            out.writeString(r.clientId());
            out.writeInt(r.round(), true);
            out.writeLong(r.numExamples(), true);
            out.writeInt(r.delta().length, true);
            out.writeFloats(r.delta());
            out.writeDouble(r.trainLoss());
            out.writeLong(r.trainTokens(), true);
            out.writeDouble(r.trainSeconds());
            out.writeInt(r.attempt(), true);
            out.writeString(r.failure());
            out.writeInt(r.statistics().size(), true);
            for (var e : r.statistics().entrySet()) { // sorted by name
                out.writeString(e.getKey());
                out.writeInt(e.getValue().length, true);
                out.writeDoubles(e.getValue());
            }
        }

        @Override
        public ClientResult read(Kryo kryo, Input in, Class<ClientResult> type) {
            String id = in.readString();
            int round = in.readInt(true);
            long n = in.readLong(true);
            float[] delta = in.readFloats(in.readInt(true));
            double loss = in.readDouble();
            long tokens = in.readLong(true);
            double seconds = in.readDouble();
            int attempt = in.readInt(true);
            String failure = in.readString();
            int k = in.readInt(true);
            java.util.Map<String, double[]> stats = new java.util.TreeMap<>();
            for (int i = 0; i < k; i++) {
                String name = in.readString();
                stats.put(name, in.readDoubles(in.readInt(true)));
            }
            return new ClientResult(id, round, n, delta, loss, tokens, seconds, attempt, failure, stats);
        }
    }

    static final class TokenizedSerializer extends Serializer<ClientData.TokenizedRow> {
        private final TokensSerializer tokens = new TokensSerializer();

        @Override
        public void write(Kryo kryo, Output out, ClientData.TokenizedRow t) {
            out.writeString(t.clientId());
            out.writeString(t.rowKey());
            out.writeBoolean(t.eval());
            tokens.write(kryo, out, t.tokens());
            out.writeBoolean(t.truncated());
        }

        @Override
        public ClientData.TokenizedRow read(
                Kryo kryo, Input in, Class<ClientData.TokenizedRow> type) {
            return new ClientData.TokenizedRow(in.readString(), in.readString(), in.readBoolean(),
                    tokens.read(kryo, in, ClientData.Tokens.class), in.readBoolean());
        }
    }

    static final class ClientEvalSerializer extends Serializer<EvalFunction.ClientEval> {
        @Override
        public void write(Kryo kryo, Output out, EvalFunction.ClientEval e) {
            out.writeString(e.clientId());
            out.writeDouble(e.nll());
            out.writeLong(e.tokens(), true);
            out.writeLong(e.correct(), true);
            out.writeLong(e.scored(), true);
            out.writeLong(e.examples(), true);
        }

        @Override
        public EvalFunction.ClientEval read(Kryo kryo, Input in, Class<EvalFunction.ClientEval> type) {
            return new EvalFunction.ClientEval(in.readString(), in.readDouble(), in.readLong(true), in.readLong(true),
                    in.readLong(true), in.readLong(true));
        }
    }
}
