package dev.understudy.job.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.understudy.job.config.DataConfig;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads the training data with where each row came from, so a bad row can be reported by file and
 * line instead of by a hash nobody can look up. The result has the data's columns plus {@link
 * #FILE} (the file's name), {@link #LINE} (1-based line of a JSON Lines file, 1-based row of a
 * Parquet file, null for CSV whose quoted fields may span lines) and {@link #PROBLEM} (a bad-row
 * reason found before the row's fields exist, or null).
 *
 * <p>JSON Lines are read line by line as bytes, so {@code invalid_utf8} (bytes that are not UTF-8),
 * {@code malformed_json} (a line that is not one JSON object), {@code blank_line} and {@code
 * wrong_type} (a text field holding a number, object or array) are told apart; Spark's own reader
 * would replace the bytes and hide all four as a null text. Parquet text columns of another type
 * than string are refused at once, naming the file, column and type. In CSV the text is checked for
 * U+FFFD, the character the decoder substitutes for bytes that are not UTF-8.
 */
public final class LocatedInput {
    private LocatedInput() {}

    /** Column holding the file name of each row. */
    public static final String FILE = "_us_file";
    /** Column holding the 1-based line (JSON Lines) or row (Parquet) of each row; null for CSV. */
    public static final String LINE = "_us_line";
    /** Column holding the bad-row reason found while reading, or null. */
    public static final String PROBLEM = "_us_problem";

    /**
     * @param textColumns the columns that must hold strings (text, prompt, response)
     */
    public static Dataset<Row> read(SparkSession spark, String path, DataConfig.Format format, List<String> textColumns) {
        return switch (format) {
            case JSONL -> jsonLines(spark, path, textColumns);
            case PARQUET -> parquet(spark, path, textColumns);
            case CSV -> {
                Dataset<Row> raw = DataPrep.read(spark, path, format);
                var problem = org.apache.spark.sql.functions.lit(null).cast("string");
                for (String c : textColumns) {
                    if (Arrays.asList(raw.columns()).contains(c)) {
                        problem = org.apache.spark.sql.functions.when(problem.isNull()
                                .and(org.apache.spark.sql.functions.instr(col(c), "\uFFFD").gt(0)), lit("invalid_utf8"))
                                .otherwise(problem);
                    }
                }
                yield raw.withColumn(FILE, fileName(org.apache.spark.sql.functions.input_file_name()))
                        .withColumn(LINE, lit(null).cast("long")).withColumn(PROBLEM, problem);
            }
        };
    }

    private static org.apache.spark.sql.Column fileName(org.apache.spark.sql.Column uri) {
        return org.apache.spark.sql.functions.regexp_extract(uri, "([^/]*)$", 1);
    }

    private static Dataset<Row> parquet(SparkSession spark, String path, List<String> textColumns) {
        Dataset<Row> raw = spark.read().parquet(path);
        for (String c : textColumns) {
            if (Arrays.asList(raw.columns()).contains(c)) {
                DataType t = raw.schema().apply(c).dataType();
                if (!t.equals(DataTypes.StringType)) {
                    throw new IllegalArgumentException("data " + path + ": column '" + c + "' holds " + t.simpleString()
                            + ", not text (string); name a string column or convert this one to string");
                }
            }
        }
        return raw.select(col("*"), fileName(col("_metadata.file_path")).as(FILE),
                col("_metadata.row_index").plus(1).as(LINE), lit(null).cast("string").as(PROBLEM));
    }

    /** Data files of {@code path} (a file, a directory, or a glob), as Spark would read them. */
    static List<Path> files(SparkSession spark, String path) throws IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        FileStatus[] matched = fs.globStatus(p);
        List<Path> out = new ArrayList<>();
        if (matched == null) {
            return out;
        }
        for (FileStatus st : matched) {
            collect(fs, st, out);
        }
        out.sort(null);
        return out;
    }

    private static void collect(FileSystem fs, FileStatus st, List<Path> out) throws IOException {
        String n = st.getPath().getName();
        if (n.startsWith("_") || n.startsWith(".")) {
            return;
        }
        if (st.isFile()) {
            out.add(st.getPath());
            return;
        }
        for (FileStatus c : fs.listStatus(st.getPath())) {
            collect(fs, c, out);
        }
    }

    private static Dataset<Row> jsonLines(SparkSession spark, String path, List<String> textColumns) {
        List<Path> files;
        try {
            files = files(spark, path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("data " + path + ": cannot list its files", e);
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("data " + path + " has no data files");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> lines = null;
        for (Path f : files) {
            String name = f.getName();
            // hadoopFile reuses its Text: copy the bytes before anything keeps them
            JavaRDD<Row> one = sc.hadoopFile(f.toString(), TextInputFormat.class, LongWritable.class, Text.class)
                    .map(t -> Arrays.copyOf(t._2().getBytes(), t._2().getLength()))
                    .zipWithIndex()
                    .map(new JsonLine(name, Set.copyOf(textColumns)));
            lines = lines == null ? one : lines.union(one);
        }
        StructType lineSchema = new StructType().add(FILE, DataTypes.StringType).add(LINE, DataTypes.LongType)
                .add("value", DataTypes.StringType).add(PROBLEM, DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(lines, lineSchema);
        // the columns: Spark's inference over the well-formed lines
        Dataset<String> good = df.filter(col("value").isNotNull()).select("value").as(org.apache.spark.sql.Encoders.STRING());
        StructType inferred = spark.read().json(good).schema();
        List<StructField> fields = new ArrayList<>();
        for (StructField f : inferred.fields()) {
            if (!f.name().equals("_corrupt_record")) {
                fields.add(f);
            }
        }
        StructType schema = new StructType(fields.toArray(new StructField[0]));
        Dataset<Row> parsed = df.withColumn("_us_json", from_json(col("value"), schema));
        List<org.apache.spark.sql.Column> out = new ArrayList<>();
        for (StructField f : schema.fields()) {
            out.add(col("_us_json").getField(f.name()).as(f.name()));
        }
        out.add(col(FILE));
        out.add(col(LINE));
        out.add(col(PROBLEM));
        return parsed.select(out.toArray(new org.apache.spark.sql.Column[0]));
    }

    /** One line of a JSON Lines file → (file, line, text or null, problem or null). */
    static final class JsonLine implements org.apache.spark.api.java.function.Function<scala.Tuple2<byte[], Long>, Row>,
            Serializable {
        private static final long serialVersionUID = 1L;
        private static final JsonFactory JSON = new JsonFactory();
        private final String file;
        private final Set<String> textColumns;

        JsonLine(String file, Set<String> textColumns) {
            this.file = file;
            this.textColumns = textColumns;
        }

        @Override
        public Row call(scala.Tuple2<byte[], Long> t) {
            byte[] bytes = t._1();
            long line = t._2() + 1;
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                return RowFactory.create(file, line, null, "invalid_utf8");
            }
            String problem = problem(text, textColumns);
            // a wrong_type line keeps its text: its other fields still parse (and set the columns' types)
            boolean parsed = problem == null || problem.equals("wrong_type");
            return RowFactory.create(file, line, parsed ? text : null, problem);
        }

        /** The reason a decoded line is not a usable JSON object, or null. */
        static String problem(String text, Set<String> textColumns) {
            if (text.isBlank()) {
                return "blank_line";
            }
            try (JsonParser p = JSON.createParser(text)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    return "malformed_json";
                }
                String wrongType = null;
                JsonToken tok;
                while ((tok = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken v = p.nextToken();
                    if (textColumns.contains(name) && v != JsonToken.VALUE_STRING && v != JsonToken.VALUE_NULL) {
                        wrongType = "wrong_type";
                    }
                    p.skipChildren();
                }
                if (tok != JsonToken.END_OBJECT || p.nextToken() != null) {
                    return "malformed_json";
                }
                return wrongType;
            } catch (IOException e) {
                return "malformed_json";
            }
        }
    }

    /** "file:line" (or "file" without a line) of a bad row, as reported. */
    static String where(String file, Object line) {
        return line == null ? file : String.format(Locale.ROOT, "%s:%d", file, ((Number) line).longValue());
    }
}
