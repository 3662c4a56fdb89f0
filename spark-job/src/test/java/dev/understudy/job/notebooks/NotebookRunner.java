package dev.understudy.job.notebooks;

import dev.understudy.job.notebooks.ZeppelinNote.Paragraph;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.JarFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;
import scala.tools.nsc.interpreter.shell.ReplReporterImpl;

/**
 * Runs Zeppelin notes headless, the way Zeppelin's Spark interpreter would (stack.md §7): {@code %spark}
 * paragraphs in an embedded Scala 2.13 REPL that shares one {@code spark} session (as Zeppelin's
 * default, globally shared interpreter does), {@code %spark.sql} through {@code spark.sql} (each
 * statement, results collected), {@code %md} rendered with CommonMark, and the first paragraph's
 * {@code %spark.conf} checked for {@code spark.jars} and applied to the session (all but
 * {@code spark.jars} and {@code spark.master}: the classes are on the test class path and the session
 * is local). Any other interpreter fails the paragraph. After a failed paragraph the rest of its note
 * is skipped (it depends on what failed), as Zeppelin's "run all" stops.
 *
 * <p>The REPL is created before the Spark session, and the session with {@code spark.repl.class.outputDir}
 * and the REPL's class loader as context loader, so that classes defined in paragraphs reach tasks.
 */
final class NotebookRunner implements AutoCloseable {
    enum Status { PASSED, FAILED, SKIPPED }

    /** What one paragraph did. */
    record Outcome(ZeppelinNote note, Paragraph paragraph, Status status, double seconds, String output, String error) {
        String describe() {
            return note.file().getFileName() + " (\"" + note.name() + "\") " + paragraph.label() + " [%"
                    + paragraph.interpreter() + "]" + (error == null ? "" : ": " + error);
        }
    }

    private final IMain repl;
    private final StringWriter replOut = new StringWriter();
    private final SparkSession spark;
    private final Map<String, String> sessionConf;
    // Zeppelin's %md renders GitHub-style tables too
    private final List<org.commonmark.Extension> gfm = List.of(org.commonmark.ext.gfm.tables.TablesExtension.create());
    private final Parser markdown = Parser.builder().extensions(gfm).build();
    private final HtmlRenderer html = HtmlRenderer.builder().extensions(gfm).build();

    /**
     * @param work a scratch directory (REPL classes; the notes' own files go where they say)
     * @param conf the {@code %spark.conf} properties to start the session with
     */
    NotebookRunner(Path work, Map<String, String> conf) throws IOException {
        Path classes = Files.createDirectories(work.resolve("repl-classes"));
        Settings settings = new Settings();
        settings.processArgumentString("-Yrepl-class-based -Yrepl-outdir " + classes);
        settings.classpath().value_$eq(String.join(File.pathSeparator, classPath()));
        repl = new IMain(settings, new ReplReporterImpl(settings, new PrintWriter(replOut, true)));
        if (!repl.initializeCompiler() || !(repl.interpret("0") instanceof Results.Success$)) {
            throw new IllegalStateException("the embedded Scala REPL did not start: " + replOut);
        }
        Thread.currentThread().setContextClassLoader(repl.classLoader());
        SparkSession.Builder b = SparkSession.builder()
                .master("local[2]")
                .appName("understudy-notebooks")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.repl.class.outputDir", classes.toString());
        sessionConf = new LinkedHashMap<>(conf);
        sessionConf.remove("spark.jars");
        sessionConf.remove("spark.master");
        sessionConf.forEach(b::config);
        spark = b.getOrCreate();
        bind("spark", "org.apache.spark.sql.SparkSession", spark);
        bind("sc", "org.apache.spark.SparkContext", spark.sparkContext());
        // what Zeppelin's Spark interpreter imports before the first paragraph
        for (String imp : List.of("import spark.implicits._", "import spark.sql", "import org.apache.spark.sql.functions._")) {
            if (!(repl.interpret(imp) instanceof Results.Success$)) {
                throw new IllegalStateException(imp + " failed in the REPL: " + replOut);
            }
        }
        replOut.getBuffer().setLength(0);
    }

    SparkSession spark() {
        return spark;
    }

    private void bind(String name, String type, Object value) {
        Results.Result r = repl.bind(name, type, value, scala.collection.immutable.List$.MODULE$.empty());
        if (!(r instanceof Results.Success$)) {
            throw new IllegalStateException("binding " + name + " in the REPL failed: " + replOut);
        }
    }

    /**
     * The {@code key value} lines of a note's first paragraph, which must be {@code %spark.conf} and set
     * {@code spark.jars} (how Zeppelin gets the Understudy jar); an {@link IllegalArgumentException} otherwise.
     */
    static Map<String, String> sparkConf(ZeppelinNote note) {
        if (note.paragraphs().isEmpty() || !note.paragraphs().get(0).interpreter().equals("spark.conf")) {
            throw new IllegalArgumentException(note.file().getFileName() + ": the first paragraph must be %spark.conf"
                    + " (with spark.jars naming the Understudy jar)");
        }
        Map<String, String> conf = new LinkedHashMap<>();
        for (String line : note.paragraphs().get(0).body().split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] kv = l.split("\\s+", 2);
            conf.put(kv[0], kv.length > 1 ? kv[1].strip() : "");
        }
        String jars = conf.get("spark.jars");
        if (jars == null || !jars.contains("understudy") && !jars.contains("spark-job")) {
            throw new IllegalArgumentException(note.file().getFileName() + ": %spark.conf must put the Understudy jar"
                    + " on spark.jars (found " + jars + ")");
        }
        return conf;
    }

    /** Runs every paragraph of {@code note} in order. */
    List<Outcome> run(ZeppelinNote note) {
        List<Outcome> out = new ArrayList<>();
        boolean failed = false;
        for (Paragraph p : note.paragraphs()) {
            if (failed) {
                out.add(new Outcome(note, p, Status.SKIPPED, 0, "", null));
                continue;
            }
            long t0 = System.nanoTime();
            String error;
            StringBuilder output = new StringBuilder();
            try {
                error = execute(note, p, output);
            } catch (RuntimeException e) {
                error = e.toString();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            out.add(new Outcome(note, p, error == null ? Status.PASSED : Status.FAILED, s, output.toString(), error));
            failed = error != null;
        }
        return out;
    }

    /** Runs one paragraph; returns null on success, else the error. */
    private String execute(ZeppelinNote note, Paragraph p, StringBuilder output) {
        switch (p.interpreter()) {
            case "spark.conf" -> {
                if (p.index() != 1) {
                    return "%spark.conf only takes effect as a note's first paragraph";
                }
                Map<String, String> conf = sparkConf(note);
                for (Map.Entry<String, String> e : conf.entrySet()) {
                    String have = sessionConf.get(e.getKey());
                    if (have != null && !have.equals(e.getValue())) {
                        return "sets " + e.getKey() + "=" + e.getValue() + " but the shared session has " + have;
                    }
                }
                return null;
            }
            case "md" -> {
                String rendered = html.render(markdown.parse(p.body()));
                if (p.body().isBlank() || rendered.isBlank()) {
                    return "renders to nothing";
                }
                output.append(rendered);
                return null;
            }
            case "spark", "spark.spark" -> {
                return scala(p.body(), output);
            }
            case "spark.sql", "sql" -> {
                return sql(p.body(), output);
            }
            default -> {
                return "interpreter %" + p.interpreter() + " is not run by the headless runner (%spark, %spark.sql,"
                        + " %spark.conf, %md)";
            }
        }
    }

    private String scala(String code, StringBuilder output) {
        replOut.getBuffer().setLength(0);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Results.Result r;
        try (PrintStream ps = new PrintStream(console, true, StandardCharsets.UTF_8)) {
            r = scala.Console$.MODULE$.withOut(ps, () -> repl.interpret(code));
        }
        output.append(console.toString(StandardCharsets.UTF_8)).append(replOut);
        if (r instanceof Results.Success$) {
            return null;
        }
        String msg = replOut.toString().strip();
        if (r instanceof Results.Incomplete$) {
            return "incomplete Scala input (an unclosed bracket, string or block?)" + (msg.isEmpty() ? "" : ": " + msg);
        }
        if (msg.isEmpty()) {
            return "Scala error (no message)";
        }
        // the compiler's "error:" lines (or the exception) first, then the echoed code with its caret
        List<String> lines = msg.lines().toList();
        List<String> first = lines.stream().filter(l -> l.contains("error:") || l.matches("^[\\w.$]+(Exception|Error)\\b.*"))
                .toList();
        return firstLines(String.join("\n", first.isEmpty() ? lines : first) + (first.isEmpty() ? "" : "\n" + msg), 12);
    }

    private String sql(String text, StringBuilder output) {
        for (String stmt : statements(text)) {
            try {
                var df = spark.sql(stmt);
                List<Row> rows = df.takeAsList(1000);
                output.append(String.join("\t", df.columns())).append('\n');
                for (Row row : rows) {
                    output.append(row.mkString("\t")).append('\n');
                }
            } catch (Exception e) { // AnalysisException is a checked exception to Java
                return "SQL statement failed: " + firstLines(String.valueOf(e.getMessage()), 6) + "\n  in: " + stmt;
            }
        }
        return null;
    }

    /** The {@code ;}-separated statements of a SQL paragraph (quotes and {@code --} comments respected). */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == 0 && c == '-' && i + 1 < text.length() && text.charAt(i + 1) == '-') {
                int eol = text.indexOf('\n', i);
                i = eol < 0 ? text.length() : eol;
                cur.append('\n');
                continue;
            }
            if (quote == 0 && (c == '\'' || c == '"' || c == '`')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
            if (quote == 0 && c == ';') {
                add(out, cur);
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder s) {
        String t = s.toString().strip();
        if (!t.isEmpty()) {
            out.add(t);
        }
    }

    private static String firstLines(String s, int n) {
        String[] lines = s.split("\n");
        if (lines.length <= n) {
            return s;
        }
        return String.join("\n", java.util.Arrays.copyOf(lines, n)) + "\n  ... (" + (lines.length - n) + " more lines)";
    }

    /** {@code N passed, N failed}, and the skipped count when there is one. */
    static String summary(List<Outcome> outcomes) {
        long passed = outcomes.stream().filter(o -> o.status() == Status.PASSED).count();
        long failed = outcomes.stream().filter(o -> o.status() == Status.FAILED).count();
        long skipped = outcomes.stream().filter(o -> o.status() == Status.SKIPPED).count();
        return String.format(Locale.ROOT, "%d passed, %d failed", passed, failed)
                + (skipped > 0 ? String.format(Locale.ROOT, "\n(%d skipped after a failed paragraph)", skipped) : "");
    }

    /**
     * The JVM's class path as the compiler needs it: the entries of {@code java.class.path}, with the
     * {@code Class-Path} of a manifest-only jar (surefire's booter) expanded.
     */
    static List<String> classPath() throws IOException {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            out.add(e);
            if (e.endsWith(".jar") && new File(e).isFile()) {
                try (JarFile jar = new JarFile(e)) {
                    var mf = jar.getManifest();
                    String cp = mf == null ? null : mf.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        Path base = Path.of(e).toAbsolutePath().getParent();
                        for (String u : cp.trim().split("\\s+")) {
                            out.add(u.startsWith("file:") ? Path.of(java.net.URI.create(u)).toString()
                                    : base.resolve(java.net.URLDecoder.decode(u, StandardCharsets.UTF_8)).toString());
                        }
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    @Override
    public void close() {
        spark.stop();
        repl.close();
    }
}
