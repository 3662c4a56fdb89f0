package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.S3ProxyServer;
import java.net.URI;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RemoteFsJobTestBase} on {@code s3a://} (s3proxy in its own JVM), keeping the newest 3
 * rounds; and {@code RunStore} writing objects in place instead of renaming (copying) them. The model sits in a bucket of its own that the driver does not touch before the
 * executors do, so the executors must reach it with the S3A settings shipped from the driver (a
 * cached S3A client of the driver's cannot stand in for them).
 */
class S3aJobTest extends RemoteFsJobTestBase {
    static S3ProxyServer s3;
    static String runBucket;
    static String modelBucket;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyServer.start(tmp.resolve("s3proxy"));
        runBucket = s3.createBucket("runs");
        modelBucket = s3.createBucket("models");
        s3.configure(hadoop(), runBucket);
        s3.configure(hadoop(), modelBucket);
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void filesGoStraightToTheirKeysWithoutARenameWhichOnS3IsACopy() throws Exception {
        String dir = runRoot() + "/direct";
        RunStore store = new RunStore(URI.create(dir), hadoop());
        FileSystem fs = new org.apache.hadoop.fs.Path(dir).getFileSystem(hadoop());
        Long renamesBefore = fs.getStorageStatistics().getLong("op_rename");
        assertThat(renamesBefore).as("S3A counts renames").isNotNull();
        store.writeString("config.yaml", "a: 1\n");
        store.writeString("config.yaml", "a: 2\n");
        assertThat(store.readString("config.yaml")).isEqualTo("a: 2\n");
        assertThat(fs.getStorageStatistics().getLong("op_rename")).isEqualTo(renamesBefore);
        assertThat(listFiles(fs, dir)).containsExactly(dir + "/config.yaml");
    }

    @Override
    String runRoot() {
        return "s3a://" + runBucket;
    }

    @Override
    String modelRoot() {
        return "s3a://" + modelBucket;
    }

    @Override
    int keepRounds() {
        return 3;
    }
}
