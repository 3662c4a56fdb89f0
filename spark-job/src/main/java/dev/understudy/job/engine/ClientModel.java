package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import com.google.gson.JsonObject;
import java.io.Serializable;
import org.apache.hadoop.fs.Path;

/**
 * The model the clients train in a round, as the method chose it: a model directory URI and a
 * version. Version 0 is the configured model ({@code model.base}); a method that builds its own
 * client model (a pruned sub-model, a layer-dropped emulator, a compressed proxy) writes it under
 * {@code method/} in the run directory and hands out versions 1, 2, ... as it replaces it. The
 * version in force is committed with every round, so a resumed run trains the same model, and
 * executors drop the models of earlier versions from their cache ({@link ExecutorModelCache#retire}).
 *
 * @param uri the model directory (a Hadoop URI), loaded by {@link ExecutorModelCache}
 * @param version 0 for the configured model; increases with every replacement
 */
public record ClientModel(String uri, int version) implements Serializable {
    public ClientModel {
        checkArgument(uri != null && !uri.isBlank(), "a client model needs a model directory URI");
        checkArgument(version >= 0, "client model version must be >= 0, got %s", version);
    }

    /** The configured model as version 0. */
    public static ClientModel configured(String uri) {
        return new ClientModel(uri, 0);
    }

    /**
     * The manifest entry committed with a round: {@code run_path} relative to the run directory
     * when the model lies inside it (a model the method built under {@code method/}, so a copied or
     * moved run still finds it and two runs of one config commit the same entry), else its {@code uri}.
     */
    JsonObject toJson(String runBase) {
        JsonObject o = new JsonObject();
        String inRun = relativeTo(uri, runBase);
        if (inRun != null) {
            o.addProperty("run_path", inRun);
        } else {
            o.addProperty("uri", uri);
        }
        o.addProperty("version", version);
        return o;
    }

    /**
     * The client model committed with a round ({@code client_model} in its manifest), or
     * {@code fallback} for runs written before versions.
     */
    public static ClientModel fromManifest(JsonObject meta, String runBase, ClientModel fallback) {
        if (!meta.has("client_model")) {
            return fallback;
        }
        JsonObject o = meta.getAsJsonObject("client_model");
        String uri = o.has("run_path") ? new Path(runBase).toString() + "/" + o.get("run_path").getAsString()
                : o.get("uri").getAsString();
        return new ClientModel(uri, o.get("version").getAsInt());
    }

    /** Whether {@code other} names the same directory as this model (ignoring URI spelling: {@code file:///x/} = {@code file:/x}). */
    boolean sameUri(String other) {
        return new Path(uri).equals(new Path(other));
    }

    /** {@code uri}'s path below {@code base}, or null when it is not inside it. */
    static String relativeTo(String uri, String base) {
        String u = new Path(uri).toString();
        String b = new Path(base).toString();
        return u.startsWith(b + "/") ? u.substring(b.length() + 1) : null;
    }
}
