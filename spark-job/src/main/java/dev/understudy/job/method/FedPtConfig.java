package dev.understudy.job.method;

import dev.understudy.job.config.MethodParams;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * FedPT's {@code method_params} (methods.md §1; unknown values of the paper take the project
 * defaults of §1(f)):
 *
 * @param large {@code method_params.large}: URI of the large base model (server side, logits only);
 *     must share the client model's tokenizer
 * @param alpha {@code method_params.alpha}: proxy strength α of {@code z_large + α (z_tuned − z_base)}
 * @param temperature {@code method_params.temperature}: distillation temperature T (KL scaled by T²)
 * @param ceWeight {@code method_params.ce_weight}: weight λ of the cross-entropy on the distillation
 *     set's reference responses, loss = (1 − λ)·KL + λ·CE
 * @param kdSteps {@code method_params.kd_steps}: distillation optimiser steps per round
 * @param kdLr {@code method_params.kd_lr}: distillation learning rate (0 = client.lr)
 * @param kdBatchSize {@code method_params.kd_batch_size}: distillation micro-batch
 * @param kdData {@code method_params.kd_data}: URI of the server's distillation set (public data,
 *     disjoint from the clients'; same columns as data.path)
 * @param kdMaxExamples {@code method_params.kd_max_examples}: use at most this many rows of kd_data (0 = all)
 * @param distill {@code method_params.distill}: false skips step 5 (FedPT without distillation, i.e.
 *     FedAvg on the small model with proxy-tuned evaluation)
 * @param expert {@code method_params.expert}: which small adapter is the proxy's expert (see {@link Expert})
 */
public record FedPtConfig(String large, double alpha, double temperature, double ceWeight, int kdSteps, double kdLr,
        int kdBatchSize, String kdData, int kdMaxExamples, boolean distill, Expert expert) {

    /**
     * The expert of the proxy {@code z_large + α (z_expert − z_small)} (teacher of the distillation,
     * server evaluation, final {@code proxy.json}).
     */
    public enum Expert {
        /**
         * {@code aggregate} (default, methods.md §1(a) step 4): the round's aggregated adapter θ̄_agg.
         * From round 2 on it started from the distilled adapter, so it carries what was distilled from
         * the large model, and the offset against the original small base adds that again each round.
         */
        AGGREGATE,
        /**
         * {@code client_updates} (a project variant, not in the paper): the initial adapter plus the
         * sum of the rounds' aggregated client updates θ̄_agg − θ̄_start, i.e. without the displacements
         * made by the server's distillation. The distilled adapter is still what the clients start
         * from; the expert only leaves out what the large model itself taught the small one.
         */
        CLIENT_UPDATES;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public FedPtConfig {
        require(large != null && !large.isBlank(), "large", large, "the URI of the large model directory");
        require(Double.isFinite(alpha) && alpha >= 0, "alpha", alpha, "≥ 0 (1.0 is proxy-tuning's default)");
        require(temperature > 0, "temperature", temperature, "> 0");
        require(ceWeight >= 0 && ceWeight <= 1, "ce_weight", ceWeight, "in [0, 1]");
        require(kdSteps >= 1, "kd_steps", kdSteps, "≥ 1 (set distill: false to skip distillation)");
        require(kdLr >= 0, "kd_lr", kdLr, "≥ 0 (0 = client.lr)");
        require(kdBatchSize >= 1, "kd_batch_size", kdBatchSize, "≥ 1");
        require(!distill || (kdData != null && !kdData.isBlank()), "kd_data", kdData,
                "the URI of the server's distillation set (or set method_params.distill=false)");
        require(kdMaxExamples >= 0, "kd_max_examples", kdMaxExamples, "≥ 0 (0 = all)");
        require(expert != null, "expert", expert, "aggregate or client_updates");
    }

    /**
     * Binds {@code method_params} through the config machinery ({@link MethodParams}): unknown keys
     * are rejected with the nearest valid one, bad values name the key (and, when the job's
     * configuration is loaded, the file and line).
     */
    public static FedPtConfig parse(Map<String, Object> p) {
        return MethodParams.bind(new Schema(), p);
    }

    /** FedPT's parameters for the config loader ({@code META-INF/services}). */
    public static final class Schema implements MethodParams.Schema {
        @Override
        public String method() {
            return FedPt.NAME;
        }

        @Override
        public Class<? extends Record> type() {
            return FedPtConfig.class;
        }

        @Override
        public Map<String, Object> defaults() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("alpha", 1.0);
            d.put("temperature", 1.0);
            d.put("ce_weight", 0.0);
            d.put("kd_steps", 20);
            d.put("kd_lr", 0.0);
            d.put("kd_batch_size", 8);
            d.put("kd_max_examples", 0);
            d.put("distill", true);
            d.put("expert", "aggregate");
            return d;
        }
    }

    private static void require(boolean ok, String key, Object value, String what) {
        if (!ok) {
            throw new IllegalArgumentException("Cannot set method_params." + key + " to " + value + ": must be " + what);
        }
    }

    static String str(Map<String, Object> m, String k, String dflt) {
        Object v = m.get(k);
        return v == null ? dflt : v.toString();
    }

    static double num(Map<String, Object> m, String k, double dflt) {
        Object v = m.get(k);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        try {
            return Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Cannot set method_params." + k + " to '" + v + "': expected a number");
        }
    }

    static boolean bool(Map<String, Object> m, String k, boolean dflt) {
        Object v = m.get(k);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException("Cannot set method_params." + k + " to '" + v + "': expected true or false");
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            int[] cur = new int[b.length() + 1];
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            prev = cur;
        }
        return prev[b.length()];
    }
}
