package dev.understudy.job.storage;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What {@code output.overwrite=true} may delete: the manifest of the entries Understudy writes at
 * the top of a run directory, and the overwrite that removes those and nothing else.
 *
 * <p>Owned: {@link #NAMES} (the run's config, metrics, rounds, adapters, evaluations, exports and
 * method artifacts, each written only by Understudy), the run-directory lease ({@code _LEASE-*.json},
 * kept: it belongs to the run that overwrites), hidden temporary files of an interrupted write
 * ({@code .<name>.tmp-<uuid>}, {@code ._LEASE-*.tmp}) and Hadoop's local checksum files of owned
 * files ({@code .<name>.crc}). An overwrite refuses, deleting nothing, when the directory holds
 * anything else (a user's notes, data) or when one of the job's inputs lies inside it, and prints
 * what it deletes.
 */
public final class OwnedEntries {
    private OwnedEntries() {}

    /** Top-level names Understudy writes in a run directory. */
    public static final Set<String> NAMES = Set.of("config.yaml", "data.json", "metrics.jsonl", "metrics.parquet", "eval_per_client",
            "evaluations", "exports", "rounds", "adapter", "merged", "method", "label_mix.json");

    /** Whether a top-level entry of a run directory is Understudy's. */
    static boolean owned(String name) {
        if (NAMES.contains(name) || name.matches(OutputLease.PREFIX + "\\d{5,}\\" + OutputLease.SUFFIX)) {
            return true;
        }
        if (name.startsWith("." + OutputLease.PREFIX) && name.endsWith(".tmp")) {
            return true;
        }
        if (name.startsWith(".") && name.contains(RunStore.TMP_MARKER)) {
            return NAMES.contains(name.substring(1, name.indexOf(RunStore.TMP_MARKER)));
        }
        if (name.startsWith(".") && name.endsWith(".crc")) {
            return NAMES.contains(name.substring(1, name.length() - 4));
        }
        return false;
    }

    /**
     * Deletes Understudy's entries of {@code dir} (not the lease); returns what it deleted, relative to
     * {@code dir}.
     *
     * @param inputs the job's input URIs ({@code data.path}, {@code model.base}, …), none of which may
     *     lie inside {@code dir}
     * @throws IllegalStateException deleting nothing, when {@code dir} holds entries that are not
     *     Understudy's or contains an input
     */
    public static List<String> overwrite(URI dir, Configuration conf, Collection<String> inputs) throws IOException {
        Path root = new Path(dir.toString().replaceAll("/+$", ""));
        FileSystem fs = root.getFileSystem(conf);
        Path qualified = fs.makeQualified(root);
        for (String in : inputs) {
            if (in == null || in.isBlank()) {
                continue;
            }
            Path p = new Path(in);
            Path q;
            try {
                q = p.getFileSystem(conf).makeQualified(p);
            } catch (IOException | RuntimeException e) {
                continue; // an input on a filesystem we cannot reach is not inside this directory
            }
            if (isWithin(q, qualified)) {
                throw new IllegalStateException("output.overwrite=true would delete the job's own input " + in
                        + ", which lies inside output.dir " + dir + "; choose an output.dir outside the inputs");
            }
        }
        if (!fs.exists(root)) {
            return List.of();
        }
        List<String> foreign = new ArrayList<>();
        List<FileStatus> mine = new ArrayList<>();
        for (FileStatus st : fs.listStatus(root)) {
            String name = st.getPath().getName();
            if (!owned(name)) {
                foreign.add(name + (st.isDirectory() ? "/" : ""));
            } else if (!name.matches(OutputLease.PREFIX + "\\d{5,}\\" + OutputLease.SUFFIX)) {
                mine.add(st);
            }
        }
        if (!foreign.isEmpty()) {
            foreign.sort(null);
            throw new IllegalStateException("output.overwrite=true refuses to touch output.dir " + dir + ": it holds "
                    + foreign.size() + " entr" + (foreign.size() == 1 ? "y" : "ies") + " Understudy did not write "
                    + abbreviate(foreign) + "; move them away or choose another output.dir");
        }
        List<String> deleted = new ArrayList<>();
        for (FileStatus st : mine) {
            deleted.add(st.getPath().getName() + (st.isDirectory() ? "/" : ""));
        }
        deleted.sort(null);
        if (!deleted.isEmpty()) {
            System.out.println("output.overwrite=true: deleting the previous run's " + String.join(", ", deleted) + " in "
                    + dir);
        }
        for (FileStatus st : mine) {
            if (!fs.delete(st.getPath(), true) && fs.exists(st.getPath())) {
                throw new IOException("could not delete " + st.getPath() + " (output.overwrite=true)");
            }
        }
        return deleted;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 5 ? names.toString() : names.subList(0, 5) + " and " + (names.size() - 5) + " more";
    }

    static boolean isWithin(Path p, Path dir) {
        String d = dir.toUri().normalize().toString().replaceAll("/+$", "");
        String s = p.toUri().normalize().toString().replaceAll("/+$", "");
        return s.equals(d) || s.startsWith(d + "/");
    }
}
