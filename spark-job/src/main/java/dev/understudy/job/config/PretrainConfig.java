package dev.understudy.job.config;

import dev.understudy.ops.pretrain.FamilySpec;
import dev.understudy.ops.pretrain.MemberSpec;
import dev.understudy.ops.pretrain.PretrainSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration of {@code understudy pretrain}: a model family (members by name), the corpus,
 * the shared tokenizer and training settings. Loaded by {@link PretrainConfigLoader} with the same
 * layering and validation as the job's configuration: record defaults &lt; each {@code --conf} file
 * in order &lt; {@code --set} overrides in order; unknown keys fail with the nearest valid key.
 *
 * <pre>
 *   name: quickstart
 *   corpus: {paths: [data/sotu.parquet]}
 *   training: {token_budget: 600000, seq_len: 128, lr: 3.0e-3}
 *   members:
 *     tiny:  {hidden_size: 32,  num_layers: 2, num_heads: 2, num_kv_heads: 1, intermediate_size: 96}
 *     large: {hidden_size: 256, num_layers: 6, num_heads: 8, num_kv_heads: 4, intermediate_size: 688, lr: 2.0e-3}
 *   output: {dir: target/family}
 * </pre>
 *
 * {@code --set members.tiny=null} drops a member that a lower layer defined.
 *
 * @param name {@code name}: family name
 * @param corpus {@code corpus.*}
 * @param tokenizer {@code tokenizer.*}
 * @param training {@code training.*}, the model-ops settings record itself
 * @param members {@code members.<name>.*}, in file order
 * @param output {@code output.*}
 * @param seed {@code seed}
 */
public record PretrainConfig(String name, Corpus corpus, TokenizerSettings tokenizer, PretrainSettings training,
        Map<String, Member> members, Output output, long seed) {

    public PretrainConfig {
        Checks.name("name", name, false);
        members = members == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(members));
        if (members.isEmpty()) {
            throw new IllegalArgumentException("Missing key members: a family needs at least one member, e.g. --set"
                    + " members.tiny={hidden_size: 32, num_layers: 2, num_heads: 2, num_kv_heads: 1,"
                    + " intermediate_size: 96}");
        }
    }

    /** How a {@code .txt} file becomes documents. */
    public enum TxtDocuments {
        FILE,
        PARAGRAPHS,
        LINES
    }

    /**
     * @param paths {@code corpus.paths}: files or directories (local or Hadoop URIs)
     * @param textColumn {@code corpus.text_column}: Parquet column / JSONL field of the text
     * @param txtDocuments {@code corpus.txt_documents}: file, paragraphs or lines
     * @param heldoutFraction {@code corpus.heldout_fraction}
     */
    public record Corpus(List<String> paths, String textColumn, TxtDocuments txtDocuments, double heldoutFraction) {
        public Corpus {
            paths = paths == null ? List.of() : List.copyOf(paths);
            Checks.name("corpus.text_column", textColumn, false);
            Checks.notNull("corpus.txt_documents", txtDocuments, "one of file, paragraphs, lines");
            Checks.check(heldoutFraction > 0 && heldoutFraction <= 0.5, "corpus.heldout_fraction", heldoutFraction,
                    "in (0, 0.5]");
        }
    }

    /**
     * @param vocabSize {@code tokenizer.vocab_size}
     * @param minFrequency {@code tokenizer.min_frequency}
     * @param maxChars {@code tokenizer.max_chars}
     */
    public record TokenizerSettings(int vocabSize, int minFrequency, long maxChars) {
        public TokenizerSettings {
            Checks.check(vocabSize >= 259, "tokenizer.vocab_size", vocabSize, "at least 259 (256 bytes + 3 specials)");
            Checks.positive("tokenizer.min_frequency", minFrequency);
            Checks.nonNegative("tokenizer.max_chars", maxChars);
        }
    }

    /** One {@code members.<name>} section; see {@link MemberSpec} for the meaning of each key. */
    public record Member(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
            boolean tieWordEmbeddings, int seqLen, double lr, double embeddingLr) {
        MemberSpec toSpec(String name) {
            return new MemberSpec(name, hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, tieWordEmbeddings,
                    seqLen, lr, embeddingLr);
        }
    }

    /** @param dir {@code output.dir}: the family directory (local) */
    public record Output(String dir) {}

    /** The model-ops description of the family (validated). */
    public FamilySpec toSpec() {
        List<MemberSpec> specs = new ArrayList<>();
        members.forEach((n, m) -> specs.add(m.toSpec(n)));
        return new FamilySpec(name, tokenizer.vocabSize(), tokenizer.minFrequency(), tokenizer.maxChars(),
                corpus.heldoutFraction(), training, specs, seed);
    }

    @Override
    public String toString() {
        return "PretrainConfig" + PretrainConfigLoader.toMap(this);
    }
}
