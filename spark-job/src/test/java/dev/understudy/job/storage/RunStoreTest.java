package dev.understudy.job.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run directory protocol on the local filesystem: commit, half-written rounds, keep_rounds. */
class RunStoreTest {
    @TempDir
    Path tmp;

    static void commit(RunStore store, int round) throws IOException {
        JsonObject meta = new JsonObject();
        meta.addProperty("round", round);
        store.commitRound(round, Map.of("global.safetensors", ("weights of round " + round).getBytes(StandardCharsets.UTF_8)),
                meta);
    }

    @Test
    void keepRoundsDeletesAllButTheNewestNAfterEachCommit() throws IOException {
        RunStore store = new RunStore(tmp.toUri(), new Configuration(), 2);
        commit(store, 1);
        assertThat(store.committedRounds()).containsExactly(1);
        commit(store, 2);
        assertThat(store.committedRounds()).containsExactly(1, 2);
        commit(store, 3);
        assertThat(store.committedRounds()).containsExactly(2, 3);
        commit(store, 4);
        commit(store, 5);
        assertThat(store.committedRounds()).containsExactly(4, 5);
        try (Stream<Path> dirs = Files.list(tmp.resolve("rounds"))) {
            assertThat(dirs.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("round-00004", "round-00005");
        }
        assertThat(new String(store.readRound(5).files().get("global.safetensors"), StandardCharsets.UTF_8))
                .isEqualTo("weights of round 5");
    }

    @Test
    void keepOneKeepsTheNewestAndZeroKeepsAll() throws IOException {
        RunStore one = new RunStore(tmp.resolve("one").toUri(), new Configuration(), 1);
        RunStore all = new RunStore(tmp.resolve("all").toUri(), new Configuration(), 0);
        for (int r = 1; r <= 3; r++) {
            commit(one, r);
            commit(all, r);
            assertThat(one.committedRounds()).containsExactly(r);
        }
        assertThat(all.committedRounds()).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> all.pruneRounds(0)).hasMessageContaining("keep must be ≥ 1");
        assertThatThrownBy(() -> new RunStore(tmp.toUri(), new Configuration(), -1)).hasMessageContaining("output.keep_rounds");
    }

    @Test
    void aPruneInterruptedAfterTheManifestLeavesAnUncommittedRoundThatResumeRemoves() throws IOException {
        RunStore store = new RunStore(tmp.toUri(), new Configuration());
        commit(store, 1);
        commit(store, 2);
        // what pruning round 1 leaves if it stops after deleting the manifest
        Files.delete(tmp.resolve("rounds/round-00001/_MANIFEST.json"));
        assertThat(store.committedRounds()).containsExactly(2);
        assertThat(store.discardUncommitted()).containsExactly("rounds/round-00001");
        assertThat(tmp.resolve("rounds/round-00001")).doesNotExist();
    }

    @Test
    void halfWrittenRoundsAndTemporaryFilesAreIgnoredThenRemoved() throws IOException {
        RunStore store = new RunStore(tmp.toUri(), new Configuration());
        commit(store, 1);
        store.write("rounds/round-00002/global.safetensors", "partial".getBytes(StandardCharsets.UTF_8));
        Files.writeString(tmp.resolve(".metrics.jsonl.tmp-1234"), "{}");
        assertThat(store.lastCommittedRound()).contains(1);
        assertThat(store.discardUncommitted()).containsExactlyInAnyOrder("rounds/round-00002", ".metrics.jsonl.tmp-1234");
        assertThat(tmp.resolve("rounds/round-00002")).doesNotExist();
        assertThat(tmp.resolve(".metrics.jsonl.tmp-1234")).doesNotExist();
        assertThat(store.committedRounds()).containsExactly(1);
    }

    @Test
    void writeReplacesAFileAndLeavesNoTemporaryFile() throws IOException {
        RunStore store = new RunStore(tmp.toUri(), new Configuration());
        store.writeString("config.yaml", "a: 1\n");
        store.writeString("config.yaml", "a: 2\n");
        store.appendLine("metrics.jsonl", "{\"round\":1}");
        store.appendLine("metrics.jsonl", "{\"round\":2}");
        assertThat(store.readString("config.yaml")).isEqualTo("a: 2\n");
        assertThat(Files.readAllLines(tmp.resolve("metrics.jsonl"))).containsExactly("{\"round\":1}", "{\"round\":2}");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }

    @Test
    void aRoundWhoseFileWasAlteredFailsToReadNamingTheFile() throws IOException {
        RunStore store = new RunStore(tmp.toUri(), new Configuration());
        commit(store, 1);
        store.write("rounds/round-00001/global.safetensors", "tampered".getBytes(StandardCharsets.UTF_8)); // CRC updated too
        assertThatThrownBy(() -> store.readRound(1)).hasMessageContaining("global.safetensors")
                .hasMessageContaining("does not match its manifest");
    }
}
