package dev.understudy.job.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.ClientData;
import dev.understudy.job.engine.ClientPacking;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.partition.GroupedDirichletConfig;
import dev.understudy.partition.GroupedNaturalIdConfig;
import dev.understudy.partition.NaturalIdConfig;
import dev.understudy.partition.PartitionPlan;
import dev.understudy.partition.PartitionerConfig;
import dev.understudy.partition.PartitioningConfig;
import dev.understudy.partition.RowOrder;
import dev.understudy.partition.Stratification;
import dev.understudy.partition.StratumCounts;
import dev.understudy.partition.TrainEvalSplit;
import dev.understudy.partition.stats.LabelHistogram;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Turns the configured data into per-client tokenised examples, distributed: read → normalise to
 * (prompt, response, label, row key) → count and reject or skip bad rows → assign clients (a
 * {@code client_column}, or a partitioner plan applied with window ranks over the seeded row hash,
 * see partitioners/README.md) → per-client stratified train/eval split → tokenise on executors →
 * one {@link ClientData} per client, packed into partitions by size and persisted.
 */
public final class DataPrep {
    private DataPrep() {}

    /** Prepared client data plus the counts the run reports. */
    /**
     * @param labels the distinct label values of classification data (sorted; empty for other kinds)
     */
    public record Prepared(JavaPairRDD<String, ClientData> clients, Map<String, Long> trainSizes, long rows,
            Map<String, Long> skipped, long truncated, long heldOut, List<String> labels, Map<String, String> skippedAt,
            long evalRows, LabelMix labelMix) {
        /** Without the locations of skipped rows and the evaluation count (views built from another Prepared). */
        public Prepared(JavaPairRDD<String, ClientData> clients, Map<String, Long> trainSizes, long rows,
                Map<String, Long> skipped, long truncated, long heldOut, List<String> labels) {
            this(clients, trainSizes, rows, skipped, truncated, heldOut, labels, Map.of(), 0, null);
        }

        /** What the run's data line reports: clients, rows, held-out and evaluation rows, skips with where. */
        public String dataLine() {
            return String.format(java.util.Locale.ROOT, "data: %d clients, %d training rows, %d evaluation rows, %d held out,"
                    + " skipped %s, %d truncated", trainSizes.size(), rows, evalRows, heldOut,
                    BadRowReport.describe(skipped, skippedAt), truncated);
        }

        /** The same figures as JSON, written to the run directory as {@code data.json}. */
        public String reportJson() {
            com.google.gson.JsonObject o = new com.google.gson.JsonObject();
            o.addProperty("clients", trainSizes.size());
            o.addProperty("training_rows", rows);
            o.addProperty("evaluation_rows", evalRows);
            o.addProperty("held_out_rows", heldOut);
            o.addProperty("truncated_rows", truncated);
            com.google.gson.JsonObject s = new com.google.gson.JsonObject();
            for (Map.Entry<String, Long> e : skipped.entrySet()) {
                com.google.gson.JsonObject r = new com.google.gson.JsonObject();
                r.addProperty("rows", e.getValue());
                if (skippedAt.containsKey(e.getKey())) {
                    r.addProperty("first_at", skippedAt.get(e.getKey()));
                }
                s.add(e.getKey(), r);
            }
            o.add("skipped", s);
            return new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
        }

        public long skippedTotal() {
            return skipped.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    public static Prepared prepare(SparkSession spark, JobConfig cfg, int partitions) {
        DataConfig d = cfg.data();
        Dataset<Row> raw = LocatedInput.read(spark, d.path(), d.format(), textColumns(d));
        Dataset<Row> norm = normalise(spark, raw, cfg);

        // 1. bad rows, counted per reason with the first one's file and line (exact: a group-by)
        BadRowReport report = BadRowReport.of(norm);
        Map<String, Long> bad = report.counts();
        if (!bad.isEmpty() && d.badRows() == DataConfig.BadRows.FAIL) {
            throw new IllegalArgumentException("data " + d.path() + " has bad rows: " + report.describe()
                    + "; fix them or set data.bad_rows=skip to skip and report them");
        }
        Dataset<Row> good = norm.filter(col("bad_reason").isNull());
        if (good.isEmpty()) {
            throw new IllegalArgumentException("data " + d.path() + " has no usable rows" + (bad.isEmpty() ? ""
                    : " (skipped: " + report.describe() + ")") + "; fix the file or point data.path at the right one");
        }

        // 2. clients
        PartitioningConfig pc = cfg.partitioning();
        long seed = cfg.seed();
        double evalFraction = pc == null ? PartitioningConfig.DEFAULT_EVAL_FRACTION : pc.evalFraction();
        Assignment assignment = assignClients(spark, good, cfg);
        Dataset<Row> assigned = assignment.rows();
        long heldOut = assignment.heldOut();

        // 3. per-client stratified train/eval split (same rule for both client sources)
        List<String> clientIds = new ArrayList<>();
        for (Row r : assigned.select("client_id").distinct().collectAsList()) {
            clientIds.add(r.getString(0));
        }
        clientIds.sort(null);
        Map<String, Integer> clientIndex = new LinkedHashMap<>();
        for (int i = 0; i < clientIds.size(); i++) {
            clientIndex.put(clientIds.get(i), i);
        }
        List<String> labels = new ArrayList<>();
        for (Row r : assigned.select("label").distinct().collectAsList()) {
            labels.add(r.getString(0));
        }
        labels.sort(null);
        long[][] cells = new long[clientIds.size()][labels.size()];
        for (Row r : assigned.groupBy("client_id", "label").agg(count(lit(1))).collectAsList()) {
            cells[clientIndex.get(r.getString(0))][labels.indexOf(r.getString(1))] = r.getLong(2);
        }
        TrainEvalSplit split = TrainEvalSplit.compute(new LabelHistogram(labels, cells), evalFraction, seed);
        long orderSeed = split.orderSeed();
        spark.udf().register("us_split_hash", (UDF1<String, Long>) k -> RowOrder.hash(orderSeed, k), DataTypes.LongType);
        // the split itself stays on the driver; executors get the per-cell eval counts
        java.util.HashMap<String, Long> evalCounts = new java.util.HashMap<>();
        for (Map.Entry<String, Integer> e : clientIndex.entrySet()) {
            for (String l : labels) {
                evalCounts.put(e.getKey() + "\u0000" + l, split.evalCount(e.getValue(), l));
            }
        }
        spark.udf().register("us_eval_count", (UDF2<String, String, Long>) (c, l) -> evalCounts.getOrDefault(c + "\u0000" + l, 0L),
                DataTypes.LongType);
        Dataset<Row> withSplit = assigned
                .withColumn("h2", functionsCall("us_split_hash", col("row_key")))
                .withColumn("cell_rank", row_number().over(Window.partitionBy(col("client_id"), col("label"))
                        .orderBy(col("h2"), col("row_key"))).minus(1).cast("long"))
                .withColumn("is_eval", col("cell_rank").lt(functionsCall("us_eval_count", col("client_id"), col("label"))));

        // 4. tokenise on executors and group per client (examples sorted by row key: a stable order)
        JavaPairRDD<String, ClientData.TokenizedRow> tok = withSplit
                .select("client_id", "row_key", "prompt", "response", "is_eval").javaRDD()
                .mapPartitions(new TokenizeFunction(cfg.model().base(), d.maxLength(),
                        HadoopConf.of(spark.sparkContext().hadoopConfiguration())))
                .mapToPair(t -> new Tuple2<>(t.clientId(), t));
        long truncated = tok.filter(t -> t._2().truncated()).count();
        JavaPairRDD<String, ClientData> grouped = tok.groupByKey().mapValues(DataPrep::toClientData);
        Map<String, Long> sizes = new TreeMap<>();
        long rows = 0;
        for (Tuple2<String, Long> s : grouped.mapValues(ClientData::numTrain).collect()) {
            sizes.put(s._1(), s._2());
            rows += s._2();
        }
        JavaPairRDD<String, ClientData> packed = grouped.partitionBy(ClientPacking.of(sizes, partitions))
                .persist(StorageLevel.MEMORY_AND_DISK());
        packed.count();
        List<String> classLabels = d.kind() == DataConfig.Kind.CLASSIFICATION ? List.copyOf(labels) : List.of();
        long evalRows = 0;
        for (int c = 0; c < clientIds.size(); c++) {
            for (String l : labels) {
                evalRows += split.evalCount(c, l);
            }
        }
        if (d.kind() == DataConfig.Kind.CLASSIFICATION) {
            String warning = LabelWarnings.unknownLabels(d.labelWords(), labels, cells);
            if (warning != null) {
                System.out.println(warning);
            }
        }
        long[] evalSizes = new long[clientIds.size()];
        for (int c = 0; c < evalSizes.length; c++) {
            evalSizes[c] = split.clientEvalCount(c);
        }
        LabelMix mix = classLabels.isEmpty() ? null : new LabelMix(clientIds, labels, cells, evalSizes);
        return new Prepared(packed, sizes, rows, bad, truncated, heldOut, classLabels, report.where(), evalRows, mix);
    }

    /**
     * Good rows with their {@code client_id}, the rows the global hold-out removed, and the plan
     * (null when {@code data.client_column} names the clients).
     */
    record Assignment(Dataset<Row> rows, long heldOut, PartitionPlan plan) {}

    /**
     * Assigns the good normalised rows to clients: from {@code client_raw}, or by the partitioner's plan
     * over the rows left after the global hold-out. Label and (group, label) plans rank rows within
     * their stratum by the seeded row hash (a window function); mapping plans look the stratum up.
     */
    static Assignment assignClients(SparkSession spark, Dataset<Row> good, JobConfig cfg) {
        if (!cfg.usesPartitioner()) {
            return new Assignment(good.withColumn("client_id", col("client_raw")), 0, null);
        }
        PartitioningConfig pc = cfg.partitioning();
        long heldOut = 0;
        var holdout = pc.holdout();
        if (holdout.fraction() > 0) {
            spark.udf().register("us_heldout", new HoldoutUdf(holdout.fraction(), pc.partitioner().seed()),
                    DataTypes.BooleanType);
            long before = good.count();
            good = good.filter(functionsCall("us_heldout", col("row_key")).equalTo(false));
            heldOut = before - good.count();
        }
        var partitioner = pc.partitioner().create();
        String stratumCol = switch (partitioner.stratification()) {
            case LABEL -> "label";
            case NATURAL_ID -> "natural_id";
            case GROUP_LABEL -> "group_label";
        };
        if (partitioner.stratification() == Stratification.GROUP_LABEL) {
            // Stratification.groupLabelKey; normalise turned group values with U+0000 into bad rows
            good = good.withColumn(stratumCol, concat(col("natural_id"), lit(String.valueOf(Stratification.GROUP_SEPARATOR)),
                    col("label")));
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Row r : good.groupBy(stratumCol).count().collectAsList()) {
            counts.put(r.getString(0), r.getLong(1));
        }
        PartitionPlan plan = partitioner.plan(StratumCounts.of(counts));
        Dataset<Row> assigned;
        if (plan.isMapping()) {
            spark.udf().register("us_client_of", (UDF1<String, String>) v -> clientName(plan.clientForStratum(v)),
                    DataTypes.StringType);
            assigned = good.withColumn("client_id", functionsCall("us_client_of", col(stratumCol)));
        } else {
            long rowSeed = plan.rowOrderSeed();
            spark.udf().register("us_row_hash", (UDF1<String, Long>) k -> RowOrder.hash(rowSeed, k), DataTypes.LongType);
            spark.udf().register("us_client_for_rank", (UDF2<String, Long, String>) (s, rank) ->
                    clientName(plan.clientForRank(s, rank)), DataTypes.StringType);
            Dataset<Row> ranked = good.withColumn("h", functionsCall("us_row_hash", col("row_key")))
                    .withColumn("rank", row_number().over(Window.partitionBy(col(stratumCol))
                            .orderBy(col("h"), col("row_key"))).minus(1).cast("long"));
            assigned = ranked.withColumn("client_id", functionsCall("us_client_for_rank", col(stratumCol), col("rank")))
                    .drop("h", "rank");
        }
        if (partitioner.stratification() == Stratification.GROUP_LABEL) {
            assigned = assigned.drop(stratumCol);
        }
        return new Assignment(assigned, heldOut, plan);
    }

    /** The global hold-out test as a UDF (GlobalHoldout itself is not serialisable). */
    static final class HoldoutUdf implements UDF1<String, Boolean> {
        private static final long serialVersionUID = 1L;
        private final double fraction;
        private final long seed;
        private transient dev.understudy.partition.GlobalHoldout holdout;

        HoldoutUdf(double fraction, long seed) {
            this.fraction = fraction;
            this.seed = seed;
        }

        @Override
        public Boolean call(String key) {
            if (holdout == null) {
                holdout = new dev.understudy.partition.GlobalHoldout(fraction, seed);
            }
            return holdout.isHeldOutHash(RowOrder.hash(holdout.hashSeed(), key));
        }
    }

    static String clientName(int index) {
        return index < 0 ? "unassigned" : String.format("client-%05d", index);
    }

    private static ClientData toClientData(Iterable<ClientData.TokenizedRow> rows) {
        List<ClientData.TokenizedRow> all = new ArrayList<>();
        rows.forEach(all::add);
        all.sort((a, b) -> a.rowKey().compareTo(b.rowKey()));
        List<ClientData.Tokens> train = new ArrayList<>();
        List<ClientData.Tokens> eval = new ArrayList<>();
        for (ClientData.TokenizedRow t : all) {
            (t.eval() ? eval : train).add(t.tokens());
        }
        return new ClientData(all.get(0).clientId(), train, eval);
    }

    private static Column functionsCall(String udf, Column... args) {
        return org.apache.spark.sql.functions.callUDF(udf, args);
    }

    /** The columns that must hold text for {@code data.kind}. */
    static List<String> textColumns(DataConfig d) {
        return switch (d.kind()) {
            case TEXT, CLASSIFICATION -> List.of(d.textColumn());
            case INSTRUCTION -> List.of(d.promptColumn(), d.responseColumn());
        };
    }

    /** Reads Parquet, JSON Lines or CSV (with a header row) from any Hadoop path. */
    public static Dataset<Row> read(SparkSession spark, String path, DataConfig.Format format) {
        return switch (format) {
            case PARQUET -> spark.read().parquet(path);
            case JSONL -> spark.read().json(path);
            case CSV -> spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"").csv(path);
        };
    }

    /**
     * Adds {@code prompt}, {@code response}, {@code label}, {@code row_key}, {@code client_raw},
     * {@code natural_id} (the value of {@code partitioning.id_column} or {@code partitioning.group_column})
     * and {@code bad_reason} (null for good rows). Missing columns fail at once, naming the column, the
     * file and the config key to change.
     */
    static Dataset<Row> normalise(SparkSession spark, Dataset<Row> raw, JobConfig cfg) {
        DataConfig d = cfg.data();
        List<String> columns = Arrays.asList(raw.columns());
        Map<String, String> needed = new LinkedHashMap<>(); // config key → column
        switch (d.kind()) {
            case TEXT -> needed.put("data.text_column", d.textColumn());
            case INSTRUCTION -> {
                needed.put("data.prompt_column", d.promptColumn());
                needed.put("data.response_column", d.responseColumn());
            }
            case CLASSIFICATION -> {
                needed.put("data.text_column", d.textColumn());
                needed.put("data.label_column", d.labelColumn());
            }
        }
        if (d.clientColumn() != null) {
            needed.put("data.client_column", d.clientColumn());
        }
        if (d.rowKeyColumn() != null) {
            needed.put("data.row_key_column", d.rowKeyColumn());
        }
        NaturalIdSource naturalIdSource = naturalIdSource(cfg);
        String naturalIdColumn = naturalIdSource == null ? null : naturalIdSource.column();
        if (naturalIdSource != null) {
            needed.put(naturalIdSource.key(), naturalIdColumn);
        }
        if (columns.contains(LocatedInput.PROBLEM) && columns.stream().allMatch(c -> c.startsWith("_us_"))) {
            throw new IllegalArgumentException("data " + d.path() + " has no well-formed row: " + BadRowReport.of(
                    raw.withColumn("bad_reason", col(LocatedInput.PROBLEM))).describe() + "; fix the file");
        }
        for (Map.Entry<String, String> e : needed.entrySet()) {
            if (!columns.contains(e.getValue())) {
                throw new IllegalArgumentException("data " + d.path() + " has no column '" + e.getValue() + "' (columns: "
                        + columns.stream().filter(c -> !c.startsWith("_us_")).toList() + "), which " + e.getKey() + " names; set " + e.getKey() + " to an existing column");
            }
        }
        Column prompt;
        Column response;
        Column label;
        Column bad;
        switch (d.kind()) {
            case TEXT -> {
                prompt = lit("");
                response = col(d.textColumn()).cast("string");
                label = lit("_");
                bad = when(response.isNull(), lit("null_text")).when(org.apache.spark.sql.functions.trim(response).equalTo(""),
                        lit("empty_text"));
            }
            case INSTRUCTION -> {
                prompt = col(d.promptColumn()).cast("string");
                response = col(d.responseColumn()).cast("string");
                label = lit("_");
                bad = when(prompt.isNull(), lit("null_prompt")).when(response.isNull(), lit("null_response"))
                        .when(org.apache.spark.sql.functions.trim(response).equalTo(""), lit("empty_response"));
            }
            default -> {
                String template = d.template();
                Map<String, String> words = new TreeMap<>(d.labelWords());
                spark.udf().register("us_template", (UDF1<String, String>) t -> t == null ? null
                        : template.replace(DataConfig.TEXT_PLACEHOLDER, t), DataTypes.StringType);
                spark.udf().register("us_label_word", (UDF1<String, String>) l -> l == null ? null
                        : words.getOrDefault(l, l), DataTypes.StringType);
                Column text = col(d.textColumn()).cast("string");
                label = col(d.labelColumn()).cast("string");
                prompt = functionsCall("us_template", text);
                response = functionsCall("us_label_word", label);
                bad = when(text.isNull(), lit("null_text")).when(org.apache.spark.sql.functions.trim(text).equalTo(""),
                        lit("empty_text")).when(label.isNull(), lit("null_label"));
            }
        }
        Column client = d.clientColumn() == null ? lit(null).cast("string") : col(d.clientColumn()).cast("string");
        if (d.clientColumn() != null) {
            bad = bad.when(client.isNull(), lit("null_client"));
        }
        boolean located = columns.contains(LocatedInput.PROBLEM);
        if (located) { // reasons found while reading come first (the fields of such a row are null); last, as
            // otherwise() closes the chain
            bad = when(col(LocatedInput.PROBLEM).isNotNull(), col(LocatedInput.PROBLEM)).otherwise(bad);
        }
        Column natural = naturalIdColumn == null ? lit(null).cast("string") : col(naturalIdColumn).cast("string");
        Dataset<Row> out = raw.select(prompt.as("prompt"), response.as("response"), label.as("label"),
                client.as("client_raw"), natural.as("natural_id"),
                d.rowKeyColumn() == null ? lit(null).cast("string").as("key_raw") : col(d.rowKeyColumn()).cast("string").as("key_raw"),
                bad.as("bad_reason"),
                located ? col(LocatedInput.FILE) : lit(null).cast("string").as(LocatedInput.FILE),
                located ? col(LocatedInput.LINE) : lit(null).cast("long").as(LocatedInput.LINE));
        if (naturalIdSource != null) {
            out = out.withColumn("bad_reason", when(col("bad_reason").isNull().and(col("natural_id").isNull()),
                    lit(naturalIdSource.nullReason())).otherwise(col("bad_reason")));
            if (naturalIdSource.key().equals("partitioning.group_column")) {
                // U+0000 separates group and label in the stratum key (Stratification.groupLabelKey)
                out = out.withColumn("bad_reason", when(col("bad_reason").isNull().and(org.apache.spark.sql.functions
                        .instr(col("natural_id"), String.valueOf(Stratification.GROUP_SEPARATOR)).gt(0)),
                        lit("nul_in_group")).otherwise(col("bad_reason")));
            }
        }
        if (d.rowKeyColumn() != null) {
            return out.withColumn("row_key", col("key_raw")).withColumn("bad_reason",
                    when(col("bad_reason").isNull().and(col("row_key").isNull()), lit("null_row_key"))
                            .otherwise(col("bad_reason"))).drop("key_raw");
        }
        // content key: SHA-256 of the example, plus an occurrence index for exact duplicates
        List<Column> parts = new ArrayList<>(List.of(
                org.apache.spark.sql.functions.coalesce(col("prompt"), lit("")),
                org.apache.spark.sql.functions.coalesce(col("response"), lit("")),
                org.apache.spark.sql.functions.coalesce(col("label"), lit("")),
                org.apache.spark.sql.functions.coalesce(col("client_raw"), lit(""))));
        if (naturalIdSource != null && naturalIdSource.key().equals("partitioning.group_column")) {
            // the group is part of the stratum: the same text in two groups must not swap keys between
            // runs (duplicates are numbered in no particular order). Other types keep their keys.
            parts.add(org.apache.spark.sql.functions.coalesce(col("natural_id"), lit("")));
        }
        Column content = org.apache.spark.sql.functions.sha2(org.apache.spark.sql.functions.concat_ws("\u0001",
                parts.toArray(new Column[0])), 256);
        return out.withColumn("content_key", content)
                .withColumn("dup", row_number().over(Window.partitionBy(col("content_key")).orderBy(col("content_key"))))
                .withColumn("row_key", org.apache.spark.sql.functions.concat_ws("#", col("content_key"), col("dup").cast("string")))
                .drop("content_key", "dup", "key_raw");
    }

    /** Where {@code natural_id} comes from: the config key, its column, and the bad-row reason for nulls. */
    private record NaturalIdSource(String key, String column, String nullReason) {}

    private static NaturalIdSource naturalIdSource(JobConfig cfg) {
        if (!cfg.usesPartitioner()) {
            return null;
        }
        PartitionerConfig p = cfg.partitioning().partitioner();
        if (p instanceof NaturalIdConfig n) {
            return new NaturalIdSource("partitioning.id_column", n.idColumn(), "null_natural_id");
        }
        if (p instanceof GroupedNaturalIdConfig g) {
            return new NaturalIdSource("partitioning.id_column", g.idColumn(), "null_natural_id");
        }
        if (p instanceof GroupedDirichletConfig g) {
            return new NaturalIdSource("partitioning.group_column", g.groupColumn(), "null_group");
        }
        return null;
    }
}
