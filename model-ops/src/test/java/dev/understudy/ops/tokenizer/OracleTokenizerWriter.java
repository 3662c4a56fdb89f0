package dev.understudy.ops.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The tokenizer kind Understudy writes, as pretraining writes it ({@link
 * ByteLevelBpeTrainer.Options#defaults}, trained on {@code tokenizer/english.txt}), for the HF
 * tokenizer oracle. {@code model-ops/src/test/python/regenerate-oracle.sh} runs {@link #main} and
 * hands the directory to transformers; {@link TokenizerOracleTest} checks that the files it
 * would write today are still the ones the fixture was made from.
 */
public final class OracleTokenizerWriter {
    private OracleTokenizerWriter() {}

    static final int VOCAB = 400;

    static TokenizerSpec spec() {
        return ByteLevelBpeTrainer.train(Corpora.english(), ByteLevelBpeTrainer.Options.defaults(VOCAB));
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code args[0]}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: OracleTokenizerWriter OUT_DIR");
        }
        spec().writeTo(Path.of(args[0]));
    }
}
