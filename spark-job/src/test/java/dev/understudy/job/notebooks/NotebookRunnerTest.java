package dev.understudy.job.notebooks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.notebooks.NotebookRunner.Outcome;
import dev.understudy.job.notebooks.NotebookRunner.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every Zeppelin note under {@code notebooks/} top to bottom, headless (tag {@code notebooks}: its
 * own surefire execution in {@code mvn verify}, because the Spark session must start after the REPL).
 */
@Tag("notebooks")
class NotebookRunnerTest {
    private static Path work;
    private static NotebookRunner runner;
    private static List<ZeppelinNote> notes;

    static Path notebooksDir() {
        return Path.of(System.getProperty("understudy.notebooksDir", "../notebooks")).toAbsolutePath().normalize();
    }

    @BeforeAll
    static void start() throws IOException {
        notes = ZeppelinNote.readAll(notebooksDir());
        assertThat(notes).as("notes under %s", notebooksDir()).isNotEmpty();
        work = Files.createTempDirectory("understudy-notebooks");
        // where the notes write their data, models and runs (their first %spark paragraph reads it)
        System.setProperty("understudy.notebook.dir", work.resolve("notes").toString());
        runner = new NotebookRunner(work, NotebookRunner.sparkConf(notes.get(0)));
    }

    @AfterAll
    static void stop() {
        if (runner != null) {
            runner.close();
        }
    }

    @Test
    void everyNoteRunsTopToBottom() {
        List<Outcome> all = new ArrayList<>();
        for (ZeppelinNote note : notes) {
            NotebookRunner.sparkConf(note); // first paragraph %spark.conf with the jar on spark.jars
            List<Outcome> outcomes = runner.run(note);
            for (Outcome o : outcomes) {
                System.out.printf(Locale.ROOT, "%-7s %6.1f s  %s%n", o.status(), o.seconds(), o.describe());
                o.output().lines().limit(40).forEach(l -> System.out.println("        | " + l));
            }
            all.addAll(outcomes);
        }
        String summary = NotebookRunner.summary(all);
        System.out.println(summary);
        System.err.println("notebooks: " + summary.replace('\n', ' '));
        List<Outcome> failed = all.stream().filter(o -> o.status() == Status.FAILED).toList();
        assertThat(failed)
                .as("%s%n%s", summary, failed.stream().map(o -> "FAILED " + o.describe() + "\n--- output:\n" + o.output())
                        .collect(Collectors.joining("\n")))
                .isEmpty();
        assertThat(notes.stream().map(ZeppelinNote::name)).contains("01-quickstart", "02-reading-runs",
                "03-bring-your-own-data", "04-fedpt");
    }

    /** The first {@code index} paragraphs of the first note, the last replaced by {@code body}. */
    private static ZeppelinNote broken(int index, String interpreter, String body) {
        ZeppelinNote n = notes.get(0);
        List<ZeppelinNote.Paragraph> ps = new ArrayList<>(n.paragraphs().subList(0, index));
        ZeppelinNote.Paragraph p = ps.get(index - 1);
        ps.set(index - 1, new ZeppelinNote.Paragraph(p.index(), p.id(), p.title(), interpreter, body));
        return new ZeppelinNote(n.file(), n.name(), List.copyOf(ps));
    }

    @Test
    void aBrokenScalaParagraphFailsNamingNoteParagraphAndError(@TempDir Path tmp) throws IOException {
        // a temporary copy of a note on disk, one paragraph broken, read back as the runner reads notes
        ZeppelinNote n = notes.get(0);
        int index = n.paragraphs().stream().filter(p -> p.interpreter().equals("spark")).findFirst().orElseThrow().index();
        String json = Files.readString(n.file());
        String original = n.paragraphs().get(index - 1).body();
        String text = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString("%spark\n" + original);
        String replacement = new com.fasterxml.jackson.databind.ObjectMapper()
                .writeValueAsString("%spark\nval rounds: Int = \"three\"\n" + original);
        assertThat(json).contains(text);
        Path copy = tmp.resolve(n.file().getFileName());
        Files.writeString(copy, json.replace(text, replacement));

        List<Outcome> outcomes = runner.run(ZeppelinNote.read(copy));
        Outcome bad = outcomes.get(index - 1);
        assertThat(bad.status()).isEqualTo(Status.FAILED);
        assertThat(bad.describe()).contains(copy.getFileName().toString(), n.name(), "paragraph " + index,
                n.paragraphs().get(index - 1).id(), "type mismatch");
        assertThat(outcomes.subList(0, index - 1)).allMatch(o -> o.status() == Status.PASSED);
        assertThat(outcomes.subList(index, outcomes.size())).allMatch(o -> o.status() == Status.SKIPPED);
        assertThat(NotebookRunner.summary(outcomes)).startsWith((index - 1) + " passed, 1 failed");
    }

    @Test
    void aRuntimeErrorASqlErrorAndAnEmptyMarkdownFail() {
        Outcome thrown = runner.run(broken(2, "spark", "val xs = Seq(1, 2)\nxs(5)")).get(1);
        assertThat(thrown.status()).isEqualTo(Status.FAILED);
        assertThat(thrown.error()).contains("IndexOutOfBoundsException");

        Outcome sql = runner.run(broken(2, "spark.sql", "SELECT 1;\nSELECT * FROM no_such_table")).get(1);
        assertThat(sql.status()).isEqualTo(Status.FAILED);
        assertThat(sql.error()).contains("no_such_table").contains("SELECT * FROM no_such_table");

        Outcome md = runner.run(broken(2, "md", "  \n")).get(1);
        assertThat(md.error()).isEqualTo("renders to nothing");
        Outcome table = runner.run(broken(2, "md", "| a | b |\n|---|---|\n| 1 | 2 |")).get(1);
        assertThat(table.output()).contains("<table>", "<td>2</td>");

        Outcome other = runner.run(broken(2, "sh", "ls")).get(1);
        assertThat(other.error()).contains("%sh is not run");
    }

    @Test
    void sqlStatementsSplitOutsideQuotesAndComments() {
        assertThat(NotebookRunner.statements("SELECT ';' AS a; -- x; y\nSELECT 2;\n\n"))
                .containsExactly("SELECT ';' AS a", "SELECT 2");
    }
}
