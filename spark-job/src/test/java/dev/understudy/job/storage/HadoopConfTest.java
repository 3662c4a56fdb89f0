package dev.understudy.job.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class HadoopConfTest {
    static HadoopConf roundTrip(HadoopConf c) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (HadoopConf) in.readObject();
        }
    }

    @Test
    void carriesSettingsMadeAtRunTimeToAFreshJvmsConfiguration() throws Exception {
        Configuration driver = new Configuration();
        driver.set("fs.s3a.bucket.models.endpoint", "http://127.0.0.1:9999");
        driver.set("fs.s3a.secret.key", "s3cr3t");
        driver.set("io.file.buffer.size", "131072"); // a changed default
        HadoopConf shipped = roundTrip(HadoopConf.of(driver));
        assertThat(shipped).isEqualTo(HadoopConf.of(driver));
        assertThat(shipped.size()).isEqualTo(3);
        Configuration executor = shipped.toConfiguration();
        assertThat(executor.get("fs.s3a.bucket.models.endpoint")).isEqualTo("http://127.0.0.1:9999");
        assertThat(executor.get("fs.s3a.secret.key")).isEqualTo("s3cr3t");
        assertThat(executor.getInt("io.file.buffer.size", 0)).isEqualTo(131072);
        assertThat(new Configuration().get("fs.s3a.bucket.models.endpoint")).as("what an executor sees without it").isNull();
    }

    @Test
    void neverPrintsValues() {
        Configuration c = new Configuration();
        c.set("fs.s3a.secret.key", "s3cr3t");
        assertThat(HadoopConf.of(c).toString()).doesNotContain("s3cr3t").isEqualTo("HadoopConf[1 settings]");
        assertThat(HadoopConf.of(new Configuration()).size()).isZero();
        assertThat(HadoopConf.empty().toConfiguration().get("fs.defaultFS")).isEqualTo("file:///");
    }
}
