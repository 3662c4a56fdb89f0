package dev.understudy.job.data;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;

/**
 * The label mix of a run's clients: rows per (client, label) after partitioning (train and eval
 * rows together) and each client's eval rows, the client/label part of the partitioners' split
 * manifest. The run writes it as {@code label_mix.json} in its directory; {@code understudy report}
 * draws it as a heat map. Only counts: no row leaves the executors for it.
 *
 * @param counts rows per (client, label), indexed as {@code clients} × {@code labels}
 */
public record LabelMix(List<String> clients, List<String> labels, long[][] counts, long[] evalSizes) {
    public static final String FILE = "label_mix.json";
    static final String FORMAT = "understudy.label-mix/1";

    public LabelMix {
        clients = List.copyOf(clients);
        labels = List.copyOf(labels);
        if (counts.length != clients.size() || evalSizes.length != clients.size()) {
            throw new IllegalArgumentException("label mix: " + clients.size() + " clients but " + counts.length
                    + " count rows and " + evalSizes.length + " eval sizes");
        }
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        JsonArray ls = new JsonArray();
        labels.forEach(ls::add);
        o.add("labels", ls);
        JsonArray cs = new JsonArray();
        for (int c = 0; c < clients.size(); c++) {
            JsonObject client = new JsonObject();
            client.addProperty("id", clients.get(c));
            client.addProperty("eval_size", evalSizes[c]);
            JsonArray row = new JsonArray();
            for (long v : counts[c]) {
                row.add(v);
            }
            client.add("label_counts", row);
            cs.add(client);
        }
        o.add("clients", cs);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }

    /** @throws IllegalArgumentException when {@code json} is not a label mix */
    public static LabelMix fromJson(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        if (!o.has("format") || !FORMAT.equals(o.get("format").getAsString())) {
            throw new IllegalArgumentException("not a label mix (format " + o.get("format") + ", expected " + FORMAT + ")");
        }
        List<String> labels = new ArrayList<>();
        o.getAsJsonArray("labels").forEach(e -> labels.add(e.getAsString()));
        JsonArray cs = o.getAsJsonArray("clients");
        List<String> clients = new ArrayList<>();
        long[][] counts = new long[cs.size()][];
        long[] eval = new long[cs.size()];
        for (int c = 0; c < cs.size(); c++) {
            JsonObject client = cs.get(c).getAsJsonObject();
            clients.add(client.get("id").getAsString());
            eval[c] = client.get("eval_size").getAsLong();
            JsonArray row = client.getAsJsonArray("label_counts");
            counts[c] = new long[row.size()];
            for (int l = 0; l < row.size(); l++) {
                counts[c][l] = row.get(l).getAsLong();
            }
        }
        return new LabelMix(clients, labels, counts, eval);
    }
}
