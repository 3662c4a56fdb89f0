package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.storage.HadoopModelSource;
import dev.understudy.job.testing.MiniHdfs;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RemoteFsJobTestBase} on {@code hdfs://} (an in-process MiniDFSCluster), keeping every
 * round; and the local copy of a remote model.
 */
class HdfsJobTest extends RemoteFsJobTestBase {
    static MiniHdfs hdfs;

    @BeforeAll
    static void startHdfs() throws Exception {
        hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
    }

    @AfterAll
    static void stopHdfs() throws Exception {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @Test
    void aRemoteModelIsCopiedOnceAndAgainWhenItChanges() throws Exception {
        String model = hdfs.uri() + "/models/changing";
        upload(job.model, model);
        Path cache = tmp.resolve("model-cache");
        HadoopModelSource src = new HadoopModelSource(URI.create(model), hadoop());
        Path first = src.localCopy(cache);
        try (Stream<Path> files = Files.list(job.model)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(first.resolve(f.getFileName().toString())).hasSameBinaryContentAs(f);
            }
        }
        var copiedAt = Files.getLastModifiedTime(first.resolve("model.safetensors"));
        assertThat(src.localCopy(cache)).isEqualTo(first); // verified by hash, not copied again
        assertThat(Files.getLastModifiedTime(first.resolve("model.safetensors"))).isEqualTo(copiedAt);
        // a copy changed on local disk fails its hashes and is copied again: the .complete marker alone is not trusted
        Files.writeString(first.resolve("config.json"), "{}");
        assertThat(src.localCopy(cache)).isEqualTo(first);
        assertThat(first.resolve("config.json")).hasSameBinaryContentAs(job.model.resolve("config.json"));

        // the model is replaced at the same URI: a fresh copy, the old one left alone for whoever uses it
        try (FileSystem fs = FileSystem.newInstance(URI.create(model), hadoop());
                OutputStream out = fs.create(new org.apache.hadoop.fs.Path(model + "/config.json"), true)) {
            out.write(Files.readAllBytes(job.model.resolve("config.json")));
            out.write(' ');
        }
        Path second = src.localCopy(cache);
        assertThat(second).isNotEqualTo(first);
        assertThat(Files.readString(second.resolve("config.json"))).isEqualTo(Files.readString(job.model.resolve("config.json")) + " ");
        assertThat(first.resolve("config.json")).hasSameBinaryContentAs(job.model.resolve("config.json"));
        try (Stream<Path> files = Files.list(second)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
        }
    }

    @Override
    String runRoot() {
        return hdfs.uri() + "/understudy";
    }

    @Override
    String modelRoot() {
        return hdfs.uri() + "/models";
    }

    @Override
    int keepRounds() {
        return 0;
    }
}
