package dev.understudy.job.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executors' model cache: private to its user, and a copy is used only when its hashes hold. */
class VerifiedCopyTest {
    @TempDir
    Path tmp;

    @Test
    void theRootIsCreatedPrivateAndAnOpenOneIsRefused() throws Exception {
        Path root = VerifiedCopy.privateRoot(tmp);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root))).isEqualTo("rwx------");
        assertThat(VerifiedCopy.privateRoot(tmp)).isEqualTo(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> VerifiedCopy.privateRoot(tmp)).hasMessage("model cache " + root + " is not private (owner "
                + System.getProperty("user.name") + ", permissions rwxrwxrwx); remove it, or point java.io.tmpdir elsewhere");
    }

    @Test
    void aCopyIsTrustedOnlyWhileEveryFileHasItsRecordedHash() throws Exception {
        Path local = Files.createDirectories(tmp.resolve("copy"));
        byte[] weights = "weights".getBytes();
        String h = VerifiedCopy.copyHashing(new java.io.ByteArrayInputStream(weights), local.resolve("model.safetensors"));
        assertThat(h).isEqualTo(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(weights)));
        Files.writeString(local.resolve(".complete"), VerifiedCopy.marker("hdfs://nn/m", java.util.Map.of(
                "model.safetensors", h)));
        assertThat(VerifiedCopy.problem(local, "hdfs://nn/m")).isNull();
        assertThat(VerifiedCopy.problem(local, "hdfs://nn/other")).isEqualTo("its marker is for another source or has no"
                + " file hashes");

        Files.writeString(local.resolve("model.safetensors"), "swapped");
        assertThat(VerifiedCopy.problem(local, "hdfs://nn/m")).startsWith("model.safetensors has SHA-256 ")
                .endsWith(", not the " + h + " copied");
        Files.delete(local.resolve("model.safetensors"));
        assertThat(VerifiedCopy.problem(local, "hdfs://nn/m")).isEqualTo("model.safetensors is missing");
        // a bare marker of the old kind (no hashes) is not trusted
        Files.writeString(local.resolve(".complete"), "hdfs://nn/m");
        assertThat(VerifiedCopy.problem(local, "hdfs://nn/m")).isNotNull();
    }
}
