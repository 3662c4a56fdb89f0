package dev.understudy.job.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * An in-process HDFS (one NameNode, one DataNode) with every port on 127.0.0.1, from the shaded
 * {@code hadoop-client-minicluster} (the unshaded one breaks next to Spark 4's shaded client, see
 * stack.md §6a). Starts in about 5 s.
 *
 * <pre>
 * try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
 *     String out = hdfs.uri() + "/runs/exp1";   // hdfs://127.0.0.1:PORT/runs/exp1
 * }
 * </pre>
 */
public final class MiniHdfs implements AutoCloseable {
    private final MiniDFSCluster cluster;

    private MiniHdfs(MiniDFSCluster cluster) {
        this.cluster = cluster;
    }

    /** Starts a cluster storing its blocks and metadata under {@code baseDir}. */
    public static MiniHdfs start(Path baseDir) throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toAbsolutePath().toString());
        for (String key : new String[] {"dfs.namenode.http-address", "dfs.datanode.address", "dfs.datanode.http.address",
                "dfs.datanode.ipc.address"}) {
            conf.set(key, "127.0.0.1:0");
        }
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try {
            cluster.waitActive();
        } catch (IOException | RuntimeException e) {
            cluster.shutdown();
            throw e;
        }
        return new MiniHdfs(cluster);
    }

    /** The filesystem URI, {@code hdfs://127.0.0.1:PORT} (no trailing slash). */
    public URI uri() {
        return cluster.getURI();
    }

    /** A client of this filesystem, built from {@code conf} (e.g. Spark's Hadoop configuration). */
    public FileSystem fileSystem(Configuration conf) throws IOException {
        return FileSystem.get(uri(), conf);
    }

    /** Closes the cached clients of this filesystem and stops the cluster. */
    @Override
    public void close() throws IOException {
        try {
            FileSystem.get(uri(), new Configuration()).close(); // drop the cached client of this URI
        } finally {
            cluster.shutdown(true);
        }
    }
}
