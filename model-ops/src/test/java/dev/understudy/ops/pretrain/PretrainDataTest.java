package dev.understudy.ops.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.testing.TextCorpora;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import dev.understudy.ops.train.Example;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PretrainDataTest {

    @Test
    void splitIsByDocumentDeterministicAndIndependentOfOrder() {
        List<String> docs = TextCorpora.grammar(200, 1);
        PretrainData.Split a = PretrainData.split(docs, 0.1, 7);
        List<String> reversed = new ArrayList<>(docs);
        Collections.reverse(reversed);
        PretrainData.Split b = PretrainData.split(reversed, 0.1, 7);

        assertThat(new HashSet<>(b.heldout())).isEqualTo(new HashSet<>(a.heldout()));
        assertThat(a.train().size() + a.heldout().size()).isEqualTo(200);
        // Roughly the fraction (binomial, n=200, p=0.1: 20 ± 4.2 sd).
        assertThat(a.heldout().size()).isBetween(8, 35);
        // No held-out document text appears in training.
        Set<String> train = new HashSet<>(a.train());
        assertThat(a.heldout()).noneMatch(train::contains);
        // Another seed gives another split.
        assertThat(new HashSet<>(PretrainData.split(docs, 0.1, 8).heldout())).isNotEqualTo(new HashSet<>(a.heldout()));
    }

    @Test
    void identicalDocumentsLandOnTheSameSide() {
        List<String> docs = new ArrayList<>(TextCorpora.grammar(50, 2));
        docs.addAll(docs); // every document twice
        PretrainData.Split s = PretrainData.split(docs, 0.2, 3);
        Set<String> train = new HashSet<>(s.train());
        assertThat(s.heldout()).isNotEmpty().noneMatch(train::contains);
    }

    @Test
    void smallCorporaStillGetOneHeldOutDocumentAndTinyOnesFail() {
        PretrainData.Split s = PretrainData.split(List.of("one document", "another one", "a third"), 0.01, 1);
        assertThat(s.heldout()).hasSize(1);
        assertThat(s.train()).hasSize(2);
        assertThatThrownBy(() -> PretrainData.split(List.of("only one", "   "), 0.1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 non-empty document");
    }

    @Test
    void streamsAreBosDocEosAndBlocksCoverThem() {
        TokenizerSpec tok = ByteLevelBpeTrainer.byteLevel(ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        PretrainData.Split split = new PretrainData.Split(List.of("ab", "cde"), List.of("xyz"));
        PretrainData data = PretrainData.tokenize(split, tok.encoder(), ByteLevelBpeTrainer.BOS_ID,
                ByteLevelBpeTrainer.EOS_ID);
        int k = ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS.size(); // byte b has id k + b
        int bos = ByteLevelBpeTrainer.BOS_ID;
        int eos = ByteLevelBpeTrainer.EOS_ID;
        int[] expected = {bos, k + 'a', k + 'b', eos, bos, k + 'c', k + 'd', k + 'e', eos};
        assertThat(data.trainTokens()).isEqualTo(9);
        assertThat(data.heldoutTokens()).isEqualTo(5);

        List<Example> blocks = data.trainBlocks(4); // 9 tokens -> 2 full blocks, tail dropped
        assertThat(blocks).hasSize(2);
        assertThat(blocks.get(0).ids()).containsExactly(expected[0], expected[1], expected[2], expected[3]);
        assertThat(blocks.get(1).ids()).containsExactly(expected[4], expected[5], expected[6], expected[7]);
        assertThat(blocks.get(0).promptLength()).isZero();

        List<Example> held = data.heldoutBlocks(3, 0, 1); // 5 tokens -> 1 full block + a 2-token tail
        assertThat(held).hasSize(2);
        assertThat(held.stream().mapToInt(e -> e.ids().length).sum()).isEqualTo(5);
        assertThatThrownBy(() -> data.trainBlocks(10)).hasMessageContaining("fewer than one block of seq_len=10");
    }

    @Test
    void heldOutSubsetsAreSeededPrefixesWithinTheTokenCap() {
        int[] stream = new int[1000];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = i; // unique, so block order is visible
        }
        PretrainData data = PretrainData.of(stream, stream);
        List<Example> all = data.heldoutBlocks(10, 0, 5);
        List<Example> some = data.heldoutBlocks(10, 95, 5);
        assertThat(all).hasSize(100);
        assertThat(some).hasSize(9); // 9 x 10 tokens ≤ 95
        for (int i = 0; i < some.size(); i++) {
            assertThat(some.get(i).ids()).isEqualTo(all.get(i).ids());
        }
        assertThat(data.heldoutBlocks(10, 5, 5)).hasSize(1); // at least one block
        // Shuffled: a permutation of the blocks, not the stream order.
        List<Integer> starts = all.stream().map(e -> e.ids()[0]).toList();
        List<Integer> inOrder = java.util.stream.IntStream.range(0, 100).map(j -> 10 * j).boxed().toList();
        assertThat(starts).containsExactlyInAnyOrderElementsOf(inOrder).isNotEqualTo(inOrder);
    }
}
