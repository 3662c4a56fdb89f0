package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.pretrain.FamilySpec;
import dev.understudy.ops.pretrain.MemberSpec;
import dev.understudy.ops.train.LrSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainConfigTest {
    static final Path QUICKSTART = Path.of("../conf/pretrain/quickstart.yaml");

    @Test
    void quickstartFamilyLoadsAndHasThreeGrowingMembers() {
        PretrainConfig c = PretrainConfigLoader.load(List.of(QUICKSTART), List.of());
        FamilySpec spec = c.toSpec();
        assertThat(spec.members()).extracting(MemberSpec::name).containsExactly("tiny", "small", "large");
        int vocab = spec.vocabSize();
        long tiny = spec.member("tiny").parameterCount(vocab);
        long small = spec.member("small").parameterCount(vocab);
        long large = spec.member("large").parameterCount(vocab);
        // The sizes the issue asks for: ~0.1M, ~0.5M, 3-10M.
        assertThat(tiny).isBetween(50_000L, 200_000L);
        assertThat(small).isBetween(250_000L, 1_000_000L);
        assertThat(large).isBetween(3_000_000L, 10_000_000L);
        assertThat(spec.training().schedule()).isEqualTo(LrSchedule.Kind.COSINE);
        assertThat(c.corpus().paths()).isEmpty();
    }

    @Test
    void recordDefaultsFillTheRest() {
        PretrainConfig c = PretrainConfigLoader.load(List.of(), List.of(
                "members.m={hidden_size: 16, num_layers: 1, num_heads: 2, num_kv_heads: 1, intermediate_size: 32}"));
        assertThat(c.name()).isEqualTo("family");
        assertThat(c.seed()).isEqualTo(42);
        assertThat(c.tokenizer().vocabSize()).isEqualTo(2048);
        assertThat(c.training().tokenBudget()).isEqualTo(1_000_000);
        assertThat(c.training().beta2()).isEqualTo(0.95);
        assertThat(c.members().get("m")).isEqualTo(new PretrainConfig.Member(16, 1, 2, 1, 32, true, 0, 0.0, 0.0));
        assertThat(c.output().dir()).isNull();
        assertThat(c.corpus().txtDocuments()).isEqualTo(PretrainConfig.TxtDocuments.FILE);
    }

    @Test
    void setOverridesAndDropsMembers() {
        PretrainConfig c = PretrainConfigLoader.load(List.of(QUICKSTART), List.of("members.tiny=null",
                "training.token_budget=1000", "members.large.lr=1e-3", "corpus.paths=[a.txt, b.jsonl]"));
        assertThat(c.members().keySet()).containsExactly("small", "large");
        assertThat(c.training().tokenBudget()).isEqualTo(1000);
        assertThat(c.members().get("large").lr()).isEqualTo(1e-3);
        assertThat(c.corpus().paths()).containsExactly("a.txt", "b.jsonl");
    }

    @Test
    void unknownKeysSuggestTheNearestOne() {
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("training.learning_rate=1e-3")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Unknown config key 'training.learning_rate'")
                .hasMessageContaining("did you mean 'training.lr'")
                .hasMessageContaining("--set training.learning_rate=1e-3");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("members.large.hiden_size=64")))
                .hasMessageContaining("did you mean 'members.large.hidden_size'");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("member.x=1")))
                .hasMessageContaining("did you mean 'members'");
    }

    @Test
    void invalidValuesNameTheKeyAndWhereItWasSet(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, """
                members:
                  tiny: {hidden_size: 30, num_layers: 2, num_heads: 4, num_kv_heads: 1, intermediate_size: 96}
                """);
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(bad), List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("members.tiny.num_heads")
                .hasMessageContaining("even head width")
                .hasMessageContaining(bad + " line 2");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("members.small.num_layers=2.5")))
                .hasMessageContaining("Cannot set members.small.num_layers to 2.5")
                .hasMessageContaining("expected an integer");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("training.batch_size=0")))
                .hasMessageContaining("Cannot set training.batch_size to 0")
                .hasMessageContaining("--set training.batch_size=0");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART),
                List.of("members.xl={hidden_size: 64, num_layers: 2, num_heads: 2}")))
                .hasMessageContaining("Missing required key members.xl.num_kv_heads of member 'xl'");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(), List.of("name=x")))
                .hasMessageContaining("a family needs at least one member");
        assertThatThrownBy(() -> PretrainConfigLoader.load(List.of(QUICKSTART), List.of("members.Big={hidden_size: 64,"
                + " num_layers: 2, num_heads: 2, num_kv_heads: 1, intermediate_size: 8}")))
                .hasMessageContaining("Cannot name a family member 'Big'");
    }

    @Test
    void resolvedYamlReadsBackToTheSameConfig() {
        PretrainConfig c = PretrainConfigLoader.load(List.of(QUICKSTART), List.of("output.dir=/tmp/fam"));
        String yaml = PretrainConfigLoader.toYaml(c);
        assertThat(yaml).contains("# Model width. Required.", "token_budget:", "large:");
        PretrainConfig back = PretrainConfigLoader.fromYaml(yaml, "resolved");
        assertThat(back).isEqualTo(c);
        assertThat(back.toSpec().digest()).isEqualTo(c.toSpec().digest());
    }
}
