package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Trains 4,000 tokens on ~2 MB and prints the time ({@code mvn -Pslow verify}). The corpus is the
 * text files under {@code -Dunderstudy.bench.corpus=DIR_OR_FILE} (paragraphs split on blank lines,
 * stopping at 2 MB) or, without it, 2 MB of synthetic English-like text.
 */
@Tag("slow")
class TrainerBenchmarkTest {
    private static final int BYTES = 2_000_000;

    @Test
    void trains4000TokensOn2MegabytesInUnderAMinute() throws Exception {
        List<String> corpus = corpus();
        long bytes = corpus.stream().mapToLong(s -> s.getBytes(StandardCharsets.UTF_8).length).sum();
        long start = System.nanoTime();

        TokenizerSpec spec = ByteLevelBpeTrainer.train(corpus, 4000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("ByteLevelBpeTrainer: %d tokens on %.2f MB (%d texts) in %.2f s%n",
                spec.vocabSize(), bytes / 1e6, corpus.size(), seconds);
        assertThat(spec.vocabSize()).isEqualTo(4000);
        assertThat(seconds).isLessThan(60);
    }

    @Test
    void encodeThroughput() throws Exception {
        List<String> corpus = corpus();
        TokenizerSpec spec = ByteLevelBpeTrainer.train(corpus, 4000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        BpeEncoder java = spec.encoder();
        try (Tokenizer djl = spec.toTokenizer()) {
            for (int round = 0; round < 2; round++) {
                long t0 = System.nanoTime();
                long n1 = 0;
                for (String s : corpus) {
                    n1 += djl.encode(s).length;
                }
                long t1 = System.nanoTime();
                long n2 = 0;
                for (String s : corpus) {
                    n2 += java.encode(s).length;
                }
                long t2 = System.nanoTime();
                long n3 = djl.encodeBatch(corpus).stream().mapToLong(a -> a.length).sum();
                long t3 = System.nanoTime();
                System.out.printf("encode 2 MB: DJL %d tokens %.2f s, DJL batch %.2f s, BpeEncoder %d tokens %.2f s%n",
                        n1, (t1 - t0) / 1e9, (t3 - t2) / 1e9, n2, (t2 - t1) / 1e9);
                assertThat(n2).isEqualTo(n1).isEqualTo(n3);
            }
        }
    }

    private static List<String> corpus() throws Exception {
        String location = System.getProperty("understudy.bench.corpus");
        if (location == null) {
            return Corpora.synthetic(BYTES, 2024);
        }
        List<Path> files = new ArrayList<>();
        Path root = Path.of(location);
        if (Files.isDirectory(root)) {
            try (var stream = Files.walk(root)) {
                stream.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        } else {
            files.add(root);
        }
        List<String> out = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
            for (String p : text.split("\n\\s*\n")) {
                if (total >= BYTES) {
                    return out;
                }
                out.add(p);
                total += p.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return out;
    }
}
