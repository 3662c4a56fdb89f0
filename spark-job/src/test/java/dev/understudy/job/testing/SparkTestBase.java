package dev.understudy.job.testing;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;

/**
 * One SparkSession for all Spark tests of the JVM: {@code local[2,4]} (two cores, a failed task is
 * retried up to 4 times, as on a cluster), UI off, driver on loopback.
 */
public abstract class SparkTestBase {
    protected static SparkSession spark;
    protected static JavaSparkContext jsc;

    @BeforeAll
    static void startSpark() {
        synchronized (SparkTestBase.class) {
            if (spark == null) {
                spark = SparkSession.builder()
                        .master("local[2,4]")
                        .appName("understudy-tests")
                        .config("spark.ui.enabled", "false")
                        .config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.sql.shuffle.partitions", "4")
                        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                        .config("spark.kryo.registrator", "dev.understudy.job.engine.KryoRegistration")
                        .getOrCreate();
                jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
                Runtime.getRuntime().addShutdownHook(new Thread(() -> spark.stop()));
            }
        }
    }
}
