package dev.understudy.job.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.config.PretrainConfig;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.pretrain.ModelFamily;
import dev.understudy.ops.testing.TextCorpora;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainCommandTest extends SparkTestBase {
    static final List<String> DOCS = TextCorpora.grammar(60, 21);
    static final PretrainConfig.Corpus FILES =
            new PretrainConfig.Corpus(List.of(), "text", PretrainConfig.TxtDocuments.FILE, 0.1);

    /** Writes DOCS as Parquet (first 20), JSONL (next 20) and one .txt per document (last 20). */
    static Path writeCorpus(Path dir) throws Exception {
        spark.createDataset(DOCS.subList(0, 20), Encoders.STRING()).toDF("text").coalesce(2).write()
                .parquet(dir.resolve("a-parquet").toString());
        StringBuilder jsonl = new StringBuilder();
        for (String d : DOCS.subList(20, 40)) {
            jsonl.append("{\"id\": 1, \"text\": \"").append(d).append("\"}\n\n");
        }
        Files.writeString(dir.resolve("b.jsonl"), jsonl);
        Files.createDirectories(dir.resolve("c"));
        for (int i = 40; i < 60; i++) {
            Files.writeString(dir.resolve(String.format("c/doc-%02d.txt", i)), DOCS.get(i));
        }
        Files.writeString(dir.resolve("c/README.md"), "not a corpus file");
        return dir;
    }

    @Test
    void readsParquetJsonlAndTextFromOneDirectory(@TempDir Path tmp) throws Exception {
        Path dir = writeCorpus(tmp.resolve("corpus"));
        CorpusReader.Corpus c = CorpusReader.read(List.of(dir.toString()), FILES, () -> spark);
        assertThat(c.files()).isEqualTo(1 + 1 + 20);
        assertThat(c.skipped()).containsEntry(".md", 1);
        // Path order: a-parquet, b.jsonl, c/...; Parquet row order within the dataset is Spark's.
        assertThat(c.documents()).hasSize(60).containsExactlyInAnyOrderElementsOf(DOCS);
        assertThat(c.documents().subList(20, 60)).containsExactlyElementsOf(DOCS.subList(20, 60));
        assertThat(c.describe()).contains("60 documents", "skipped {.md=1}");
    }

    @Test
    void textFilesSplitIntoParagraphsOrLines(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("book.txt");
        Files.writeString(f, "First paragraph,\nstill first.\n\n  \nSecond one.\r\n\r\nThird.\n");
        assertThat(CorpusReader.read(List.of(f.toString()), FILES, () -> spark).documents()).hasSize(1);
        PretrainConfig.Corpus paragraphs = new PretrainConfig.Corpus(List.of(), "text",
                PretrainConfig.TxtDocuments.PARAGRAPHS, 0.1);
        assertThat(CorpusReader.read(List.of(f.toString()), paragraphs, () -> spark).documents())
                .containsExactly("First paragraph,\nstill first.", "Second one.", "Third.");
        PretrainConfig.Corpus lines = new PretrainConfig.Corpus(List.of(), "text", PretrainConfig.TxtDocuments.LINES, 0.1);
        CorpusReader.Corpus byLine = CorpusReader.read(List.of("file://" + f), lines, () -> spark);
        assertThat(byLine.documents()).containsExactly("First paragraph,", "still first.", "Second one.", "Third.");
        assertThat(byLine.dropped()).isEqualTo(3); // "", "  " and ""
    }

    @Test
    void badInputsNameTheFileLineAndKey(@TempDir Path tmp) throws Exception {
        Path jsonl = tmp.resolve("x.jsonl");
        Files.writeString(jsonl, "{\"text\": \"fine\"}\n{\"body\": \"no text field\"}\n");
        assertThatThrownBy(() -> CorpusReader.read(List.of(jsonl.toString()), FILES, () -> spark))
                .hasMessageContaining("x.jsonl line 2 has no string field 'text'")
                .hasMessageContaining("corpus.text_column");
        Files.writeString(jsonl, "{\"text\": \"fine\"}\n{not json\n");
        assertThatThrownBy(() -> CorpusReader.read(List.of(jsonl.toString()), FILES, () -> spark))
                .hasMessageContaining("x.jsonl line 2 is not valid JSON");

        Path parquet = tmp.resolve("p.parquet");
        spark.createDataset(List.of("a", "b"), Encoders.STRING()).toDF("body").write().parquet(parquet.toString());
        assertThatThrownBy(() -> CorpusReader.read(List.of(parquet.toString()), FILES, () -> spark))
                .hasMessageContaining("has no column 'text' (columns: body)");

        assertThatThrownBy(() -> CorpusReader.read(List.of(tmp.resolve("missing").toString()), FILES, () -> spark))
                .hasMessageContaining("missing does not exist");
        Path csv = tmp.resolve("d.csv");
        Files.writeString(csv, "text\nx\n");
        assertThatThrownBy(() -> CorpusReader.read(List.of(csv.toString()), FILES, () -> spark))
                .hasMessageContaining("unsupported extension '.csv'");
        Path latin1 = tmp.resolve("l.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xe9});
        assertThatThrownBy(() -> CorpusReader.read(List.of(latin1.toString()), FILES, () -> spark))
                .hasMessageContaining("l.txt is not valid UTF-8");
    }

    @Test
    void pretrainsATwoMemberFamilyThenReportsItCached(@TempDir Path tmp) throws Exception {
        Path corpus = writeCorpus(tmp.resolve("corpus"));
        Path out = tmp.resolve("family");
        List<String> args = new ArrayList<>(List.of("--corpus", corpus.toString(), "--out", out.toString(),
                "--set", "name=cmd-test", "--set", "tokenizer.vocab_size=300",
                "--set", "training={token_budget: 768, batch_size: 4, seq_len: 32, lr: 0.01, warmup_steps: 1,"
                        + " eval_every: 3, eval_tokens: 128, final_eval_tokens: 0, checkpoint_every: 2}",
                "--set", "members.a={hidden_size: 16, num_layers: 1, num_heads: 2, num_kv_heads: 1, intermediate_size: 32}",
                "--set", "members.b={hidden_size: 32, num_layers: 1, num_heads: 2, num_kv_heads: 2, intermediate_size: 64,"
                        + " lr: 0.005}"));

        String first = run(args);
        assertThat(first).contains("corpus: read 60 documents", "a step 3: held-out loss", "b: ", "tokens/s", "family 'cmd-test'");
        ModelFamily f = ModelFamily.load(out).checkSharedVocabulary().verify(new DirectoryModelSource(out));
        assertThat(f.memberNames()).containsExactly("a", "b");
        assertThat(f.member("b").lr()).isEqualTo(0.005);
        assertThat(f.member("a").steps()).isEqualTo(6); // 768 / (4 x 32)
        assertThat(f.corpus().documents()).isEqualTo(60);
        assertThat(f.corpus().sources()).containsExactly(corpus.toString());
        assertThat(out.resolve("pretrain-config.yaml")).content().contains("name: cmd-test");

        // The same command again: cached, whatever the corpus path spelling; nothing rewritten.
        String manifest = Files.readString(out.resolve("family.json"));
        var written = Files.getLastModifiedTime(out.resolve("b/model.safetensors"));
        List<String> again = new ArrayList<>(args);
        again.set(1, "file://" + corpus);
        String second = run(again);
        assertThat(second).contains("cached: ").doesNotContain("held-out loss");
        assertThat(Files.readString(out.resolve("family.json"))).isEqualTo(manifest);
        assertThat(Files.getLastModifiedTime(out.resolve("b/model.safetensors"))).isEqualTo(written);
        assertThat(spark.sparkContext().isStopped()).isFalse(); // the shared session was not the command's to stop
    }

    @Test
    void printsTheResolvedConfigAndRejectsBadArguments() throws Exception {
        String yaml = run(List.of("--conf", "../conf/pretrain/quickstart.yaml", "--out", "/tmp/x", "--print-config"));
        assertThat(yaml).contains("name: quickstart", "dir: /tmp/x", "# Model width. Required.");
        assertThatThrownBy(() -> run(List.of("--conf", "../conf/pretrain/quickstart.yaml", "--bogus")))
                .hasMessageContaining("unknown option '--bogus'");
        assertThatThrownBy(() -> run(List.of("--conf", "../conf/pretrain/quickstart.yaml", "--out", "/tmp/x")))
                .hasMessageContaining("No corpus: set corpus.paths");
        assertThatThrownBy(() -> run(List.of("--conf", "../conf/pretrain/quickstart.yaml", "--corpus", "x.txt",
                "--out", "hdfs://nn/fam")))
                .hasMessageContaining("output.dir must be a local directory");
        assertThatThrownBy(() -> run(List.of())).hasMessageContaining("pretrain needs a configuration");
        assertThatThrownBy(() -> run(List.of("--conf", "../conf/pretrain/quickstart.yaml", "--force", "--resume")))
                .hasMessageContaining("not both");
    }

    static String run(List<String> args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int rc = PretrainCommand.run(args.toArray(new String[0]), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(rc).isZero();
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
