package dev.understudy.job;

import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.JobConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checks on the driver, before Spark starts any work, that the job's inputs are what the
 * configuration says: {@code --conf} files exist; {@code data.path} exists, is not empty and is in
 * {@code data.format} (sniffed: Parquet files start with {@code PAR1}, JSON lines with {@code
 * {}); {@code model.base} is a directory with {@code config.json}, {@code tokenizer.json} and
 * safetensors weights. Each mistake is one {@link IllegalArgumentException} line naming the key and
 * the file, which {@link Main} prints as {@code error: …} with exit status 2.
 *
 * <p>{@link Main} runs the checks of local paths ({@code file:} or no scheme) before it creates the
 * SparkSession, and those of remote paths ({@code hdfs://}, {@code s3a://}) right after, with the
 * session's Hadoop settings (which {@code spark-submit} supplies) but before any Spark job.
 */
public final class InputPreflight {
    private InputPreflight() {}

    /** {@code --conf} (and {@code --defaults}) files exist and are regular files. */
    public static void checkConfFiles(List<java.nio.file.Path> confs, java.nio.file.Path defaults) {
        for (java.nio.file.Path c : confs) {
            requireFile("--conf", c);
        }
        if (defaults != null) {
            requireFile("--defaults", defaults);
        }
    }

    private static void requireFile(String opt, java.nio.file.Path p) {
        if (!Files.exists(p)) {
            throw new IllegalArgumentException(opt + " " + p + ": no such file (working directory "
                    + java.nio.file.Path.of("").toAbsolutePath() + ")");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(opt + " " + p + " is a directory, not a YAML file");
        }
    }

    /**
     * Checks {@code data.path} and {@code model.base}.
     *
     * @param remote false: only paths on the local disk (no Spark yet); true: only the others
     * @param data also {@code data.path} (commands that read the training data)
     */
    public static void check(JobConfig cfg, Configuration hadoop, boolean remote, boolean data) throws IOException {
        DataConfig d = cfg.data();
        if (data && isLocal(d.path()) != remote) {
            checkData("data.path", d.path(), d.format(), hadoop);
        }
        if (isLocal(cfg.model().base()) != remote) {
            checkModel("model.base", cfg.model().base(), hadoop);
        }
    }

    static boolean isLocal(String uri) {
        String scheme = new Path(uri).toUri().getScheme();
        return scheme == null || scheme.equals("file");
    }

    static void checkData(String key, String uri, DataConfig.Format format, Configuration hadoop) throws IOException {
        Path p = new Path(uri);
        FileSystem fs = p.getFileSystem(hadoop);
        if (uri.contains("*") || uri.contains("?") || uri.contains("{")) {
            FileStatus[] matched = fs.globStatus(p);
            if (matched == null || matched.length == 0) {
                throw new IllegalArgumentException(key + " " + uri + " matches no file");
            }
            return;
        }
        if (!fs.exists(p)) {
            throw new IllegalArgumentException(key + " " + uri + ": no such file or directory" + hint(p, fs));
        }
        FileStatus st = fs.getFileStatus(p);
        List<FileStatus> files = new ArrayList<>();
        if (st.isDirectory()) {
            for (FileStatus f : fs.listStatus(p)) {
                String n = f.getPath().getName();
                if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                    files.add(f);
                } else if (f.isDirectory() && !n.startsWith("_") && !n.startsWith(".")) {
                    files.add(f); // partitioned layout (col=value/): Spark reads it recursively
                }
            }
            if (files.isEmpty()) {
                throw new IllegalArgumentException(key + " " + uri + " is an empty directory (no data files)");
            }
        } else {
            files.add(st);
        }
        FileStatus first = files.stream().filter(FileStatus::isFile).filter(f -> f.getLen() > 0).findFirst().orElse(null);
        if (first == null) {
            if (files.stream().allMatch(FileStatus::isFile)) {
                throw new IllegalArgumentException(key + " " + uri + " is empty (0 bytes" + (st.isDirectory() ? " in every file"
                        : "") + ")");
            }
            return;
        }
        sniff(key, uri, first, format, fs);
        if (format == DataConfig.Format.PARQUET) {
            for (FileStatus f : files) {
                if (f.isFile()) {
                    checkParquetFooter(key, uri, f, fs);
                }
            }
        }
    }

    /**
     * A Parquet file ends with its footer and {@code PAR1}; a copy cut short (an interrupted upload)
     * does not, and Spark would fail deep in a task with a trace.
     */
    static void checkParquetFooter(String key, String uri, FileStatus f, FileSystem fs) throws IOException {
        byte[] tail = new byte[4];
        boolean ok = false;
        if (f.getLen() >= 12) { // PAR1 + footer length (4) + PAR1
            try (org.apache.hadoop.fs.FSDataInputStream in = fs.open(f.getPath())) {
                in.readFully(f.getLen() - 4, tail);
            }
            ok = tail[0] == 'P' && tail[1] == 'A' && tail[2] == 'R' && tail[3] == '1';
        }
        if (!ok) {
            String file = f.getPath().toString().equals(new Path(uri).toString()) ? "" : " (file " + f.getPath().getName() + ")";
            throw new IllegalArgumentException(key + " " + uri + file + " is a truncated or damaged Parquet file (" + f.getLen()
                    + " bytes, no PAR1 footer at the end); copy or export it again, or remove it from the directory");
        }
    }

    private static void sniff(String key, String uri, FileStatus f, DataConfig.Format format, FileSystem fs)
            throws IOException {
        String name = f.getPath().getName().toLowerCase(Locale.ROOT);
        for (String suffix : new String[] {".gz", ".bz2", ".zst", ".deflate", ".lz4", ".snappy"}) {
            if (name.endsWith(suffix) && !name.endsWith(".parquet")) {
                return; // compressed text: the codec decides what the bytes look like
            }
        }
        byte[] head = new byte[64];
        int n;
        try (InputStream in = fs.open(f.getPath())) {
            n = in.readNBytes(head, 0, head.length);
        }
        boolean parquet = n >= 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1';
        String text = new String(head, 0, n, StandardCharsets.UTF_8).replace("\uFEFF", "").stripLeading();
        boolean jsonLike = text.startsWith("{");
        String file = f.getPath().toString().equals(new Path(uri).toString()) ? "" : " (file " + f.getPath().getName() + ")";
        if (format == DataConfig.Format.PARQUET && !parquet) {
            String looks = jsonLike ? "JSON lines; set data.format=jsonl" : "text, not Parquet; set data.format=jsonl or csv";
            throw new IllegalArgumentException(key + " " + uri + file + " is not a Parquet file (no PAR1 header): it looks"
                    + " like " + looks);
        }
        if (format != DataConfig.Format.PARQUET && parquet) {
            throw new IllegalArgumentException(key + " " + uri + file + " is a Parquet file but data.format is "
                    + format.name().toLowerCase(Locale.ROOT) + "; set data.format=parquet");
        }
        if (format == DataConfig.Format.JSONL && !jsonLike && !text.isEmpty()) {
            throw new IllegalArgumentException(key + " " + uri + file + " is not JSON lines (its first line does not start"
                    + " with '{'); set data.format=csv for CSV, or fix the file");
        }
    }

    static void checkModel(String key, String uri, Configuration hadoop) throws IOException {
        Path p = new Path(uri);
        FileSystem fs = p.getFileSystem(hadoop);
        if (!fs.exists(p)) {
            throw new IllegalArgumentException(key + " " + uri + ": no such directory" + hint(p, fs));
        }
        if (!fs.getFileStatus(p).isDirectory()) {
            throw new IllegalArgumentException(key + " " + uri + " is a file; it must be a Hugging Face model directory"
                    + " (config.json, tokenizer.json, *.safetensors)");
        }
        List<String> missing = new ArrayList<>();
        boolean weights = false;
        List<String> names = new ArrayList<>();
        for (FileStatus f : fs.listStatus(p)) {
            names.add(f.getPath().getName());
            weights |= f.getPath().getName().endsWith(".safetensors");
        }
        for (String need : new String[] {"config.json", "tokenizer.json"}) {
            if (!names.contains(need)) {
                missing.add(need);
            }
        }
        if (!weights) {
            missing.add("*.safetensors");
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(key + " " + uri + " is not a Hugging Face model directory: it has no "
                    + String.join(", no ", missing) + (names.isEmpty() ? " (it is empty)" : ""));
        }
    }

    /** ", the nearest existing parent is …" when there is one. */
    private static String hint(Path p, FileSystem fs) throws IOException {
        Path parent = p.getParent();
        while (parent != null && !fs.exists(parent)) {
            parent = parent.getParent();
        }
        return parent == null || parent.isRoot() ? "" : " (" + parent + " exists)";
    }
}
