package dev.understudy.job.pretrain;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.understudy.job.config.PretrainConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Reads a pretraining corpus as a list of documents from local paths or any Hadoop URI: {@code
 * .txt} files (a whole file, its blank-line paragraphs or its lines per document), {@code .jsonl}
 * files (one JSON object per line, the text in {@code corpus.text_column}) and Parquet (a {@code
 * .parquet} file, or a directory holding {@code .parquet} files, read with Spark; one row per
 * document). Directories are walked recursively in path order; hidden entries ({@code .x}, {@code _x})
 * and other extensions are skipped and counted. A Spark session is only asked for when Parquet is
 * read, so text corpora need no Spark at all.
 */
public final class CorpusReader {
    private CorpusReader() {}

    /**
     * The documents in reading order, and a note on what was read.
     *
     * @param documents one string per document (empty ones dropped)
     * @param sources the paths as given
     * @param files files (or Parquet datasets) read
     * @param skipped files skipped in directory walks, by extension
     * @param dropped empty or null documents dropped
     */
    public record Corpus(List<String> documents, List<String> sources, int files, Map<String, Integer> skipped,
            long dropped) {
        public String describe() {
            return String.format(Locale.ROOT, "%,d documents from %d file(s)%s%s", documents.size(), files,
                    skipped.isEmpty() ? "" : ", skipped " + skipped,
                    dropped == 0 ? "" : ", dropped " + dropped + " empty document(s)");
        }
    }

    /**
     * @param spark supplies a session when Parquet is read (called at most once)
     * @throws IllegalArgumentException naming the path (and file line) for a missing path, an
     *     unsupported file, malformed JSONL, a missing or non-string text column, or invalid UTF-8
     */
    public static Corpus read(List<String> paths, PretrainConfig.Corpus settings, Supplier<SparkSession> spark)
            throws IOException {
        if (paths.isEmpty()) {
            throw new IllegalArgumentException("No corpus: set corpus.paths in the config or pass --corpus PATH");
        }
        Reader r = new Reader(settings, spark);
        for (String p : paths) {
            r.readTop(p);
        }
        return new Corpus(r.docs, List.copyOf(paths), r.files, r.skipped, r.dropped);
    }

    private static final class Reader {
        final PretrainConfig.Corpus settings;
        final Supplier<SparkSession> sparkSupplier;
        SparkSession spark;
        final List<String> docs = new ArrayList<>();
        final Map<String, Integer> skipped = new TreeMap<>();
        int files;
        long dropped;

        Reader(PretrainConfig.Corpus settings, Supplier<SparkSession> spark) {
            this.settings = settings;
            this.sparkSupplier = spark;
        }

        Configuration conf() {
            SparkSession active = spark != null ? spark : SparkSession.getActiveSession().getOrElse(() -> null);
            return active != null ? active.sparkContext().hadoopConfiguration() : new Configuration();
        }

        void readTop(String location) throws IOException {
            Path p = new Path(location);
            FileSystem fs = p.getFileSystem(conf());
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("Corpus path " + location + " does not exist (from corpus.paths or"
                        + " --corpus)");
            }
            FileStatus st = fs.getFileStatus(p);
            if (st.isDirectory()) {
                readDirectory(fs, p);
                return;
            }
            String ext = extension(p.getName());
            if (!List.of("txt", "jsonl", "parquet").contains(ext)) {
                throw new IllegalArgumentException("Cannot read corpus file " + location + ": unsupported extension '."
                        + ext + "'; use .txt, .jsonl or .parquet files, or a directory of them");
            }
            readFile(fs, st.getPath(), ext);
        }

        void readDirectory(FileSystem fs, Path dir) throws IOException {
            FileStatus[] entries = fs.listStatus(dir);
            Arrays.sort(entries, Comparator.comparing(s -> s.getPath().getName()));
            // A directory holding .parquet files is one Parquet dataset (Spark's output layout).
            boolean parquetDataset = Arrays.stream(entries).anyMatch(s -> s.isFile()
                    && !hidden(s.getPath().getName()) && extension(s.getPath().getName()).equals("parquet"));
            if (parquetDataset) {
                readParquet(dir.toString());
                return;
            }
            for (FileStatus s : entries) {
                String name = s.getPath().getName();
                if (hidden(name)) {
                    continue;
                }
                if (s.isDirectory()) {
                    readDirectory(fs, s.getPath());
                    continue;
                }
                String ext = extension(name);
                if (ext.equals("txt") || ext.equals("jsonl")) {
                    readFile(fs, s.getPath(), ext);
                } else {
                    skipped.merge(ext.isEmpty() ? "(none)" : "." + ext, 1, Integer::sum);
                }
            }
        }

        void readFile(FileSystem fs, Path file, String ext) throws IOException {
            switch (ext) {
                case "txt" -> readTxt(file, decode(fs, file));
                case "jsonl" -> readJsonl(file, decode(fs, file));
                case "parquet" -> readParquet(file.toString());
                default -> throw new IllegalStateException(ext);
            }
        }

        void readTxt(Path file, String text) {
            files++;
            switch (settings.txtDocuments()) {
                case FILE -> add(text);
                case PARAGRAPHS -> {
                    for (String para : text.split("\\R\\s*\\R")) {
                        add(para.strip());
                    }
                }
                case LINES -> text.lines().forEach(this::add);
            }
        }

        void readJsonl(Path file, String text) {
            files++;
            String column = settings.textColumn();
            int lineNo = 0;
            for (String line : (Iterable<String>) text.lines()::iterator) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonElement e;
                try {
                    e = JsonParser.parseString(line);
                } catch (JsonParseException ex) {
                    throw new IllegalArgumentException(file + " line " + lineNo + " is not valid JSON: " + ex.getMessage());
                }
                JsonElement v = e.isJsonObject() ? e.getAsJsonObject().get(column) : null;
                if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                    throw new IllegalArgumentException(file + " line " + lineNo + " has no string field '" + column
                            + "'; set corpus.text_column to the field holding the text");
                }
                add(v.getAsString());
            }
        }

        void readParquet(String location) {
            if (spark == null) {
                spark = sparkSupplier.get();
            }
            files++;
            Dataset<Row> df = spark.read().parquet(location);
            String column = settings.textColumn();
            StructField field = Arrays.stream(df.schema().fields()).filter(f -> f.name().equals(column)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("Parquet " + location + " has no column '" + column
                            + "' (columns: " + String.join(", ", df.columns()) + "); set corpus.text_column"));
            if (!field.dataType().equals(DataTypes.StringType)) {
                throw new IllegalArgumentException("Parquet " + location + " column '" + column + "' has type "
                        + field.dataType().simpleString() + "; the document text must be a string column");
            }
            for (Row row : df.select(column).collectAsList()) {
                add(row.isNullAt(0) ? null : row.getString(0));
            }
        }

        void add(String doc) {
            if (doc == null || doc.isBlank()) {
                dropped++;
            } else {
                docs.add(doc);
            }
        }
    }

    static String decode(FileSystem fs, Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = fs.open(file)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            bytes = out.toByteArray();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("Corpus file " + file + " is not valid UTF-8 (" + e.getMessage()
                    + "); convert it, e.g. iconv -t UTF-8");
        }
    }

    static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
