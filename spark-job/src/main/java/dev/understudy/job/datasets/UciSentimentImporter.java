package dev.understudy.job.datasets;

import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015) as shipped in the test fixtures of
 * npm {@code sentiment@5.0.2}: {@code package/test/fixtures/{imdb,yelp,amazon}.json}, each a JSON
 * array of {@code {"text": "...", "class": 0|1}}.
 *
 * <p>Output {@code text, label, domain}: text with surrounding whitespace trimmed (the files pad most
 * sentences with two trailing spaces), label 0 = negative / 1 = positive, domain = the file
 * ({@code imdb}, {@code yelp}, {@code amazon}), a natural feature-skew axis for clients. Each file
 * ends with {@code {"text":"","class":null}}; rows with blank text are dropped as "empty text",
 * rows with text but a null class as "missing label". Any other shape (a label other than 0/1, a
 * non-string text, a non-object element) is an error naming the file and row: the package is pinned
 * by checksum, so this only happens with a substituted file.
 */
public final class UciSentimentImporter implements DatasetImporter {
    static final NpmPackage PACKAGE = new NpmPackage("sentiment", "5.0.2",
            "sha512-ZeC3y0JsOYTdwujt5uOd7ILJNilbgFzUtg/LEG4wUv43LayFNLZ28ec8+Su+h3saHlJmIwYxBzfDHHZuiMA15g==");
    static final List<String> DOMAINS = List.of("imdb", "yelp", "amazon");
    static final String DIR = "package/test/fixtures/";
    static final String EMPTY_TEXT = "empty text";
    static final String MISSING_LABEL = "missing label";

    private final NpmPackage source;

    public UciSentimentImporter() {
        this(PACKAGE);
    }

    /** With another package pin (tests use a synthetic tarball). */
    UciSentimentImporter(NpmPackage source) {
        this.source = source;
    }

    @Override
    public String name() {
        return "uci-sentiment";
    }

    @Override
    public String description() {
        return "3,000 review sentences labelled negative (0) / positive (1), 1,000 each from IMDB, Yelp and Amazon";
    }

    @Override
    public String kind() {
        return "classification";
    }

    @Override
    public String licence() {
        return "CC BY 4.0 (UCI Machine Learning Repository, Kotzias et al. 2015); npm package MIT";
    }

    @Override
    public PackageRef source() {
        return source;
    }

    @Override
    public List<Column> columns() {
        return List.of(Column.string("text"), Column.integer("label"), Column.string("domain"));
    }

    @Override
    public List<String> countColumns() {
        return List.of("label", "domain");
    }

    @Override
    public Table parse(Path packageFile) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        for (TarGz.Entry e : TarGz.read(packageFile, n -> n.startsWith(DIR) && n.endsWith(".json"))) {
            files.put(e.name(), e.data());
        }
        Table table = new Table(columns());
        for (String domain : DOMAINS) {
            byte[] data = files.get(DIR + domain + ".json");
            if (data == null) {
                throw new DatasetException(packageFile + " has no " + DIR + domain + ".json; is it " + source.coordinates() + "?");
            }
            parseFile(domain, Texts.utf8(data, packageFile + "!" + DIR + domain + ".json"), table);
        }
        return table;
    }

    /** Parses one fixture file ({@code domain}.json) into {@code table}. */
    static void parseFile(String domain, String json, Table table) throws IOException {
        String file = domain + ".json";
        int row = 0;
        try (JsonReader r = new JsonReader(new StringReader(json))) {
            if (r.peek() != JsonToken.BEGIN_ARRAY) {
                throw new DatasetException(file + ": expected a JSON array of {\"text\", \"class\"} objects, found " + r.peek());
            }
            r.beginArray();
            while (r.hasNext()) {
                row++;
                String where = file + " row " + row;
                if (r.peek() != JsonToken.BEGIN_OBJECT) {
                    throw new DatasetException(where + ": expected an object {\"text\", \"class\"}, found " + r.peek());
                }
                r.beginObject();
                String text = null;
                boolean hasText = false;
                Integer label = null;
                while (r.hasNext()) {
                    String key = r.nextName();
                    switch (key) {
                        case "text" -> {
                            hasText = true;
                            if (r.peek() == JsonToken.NULL) {
                                r.nextNull();
                            } else if (r.peek() == JsonToken.STRING) {
                                text = r.nextString();
                            } else {
                                throw new DatasetException(where + ": \"text\" must be a string, found " + r.peek());
                            }
                        }
                        case "class" -> {
                            if (r.peek() == JsonToken.NULL) {
                                r.nextNull();
                            } else if (r.peek() == JsonToken.NUMBER) {
                                String v = r.nextString();
                                if (!v.equals("0") && !v.equals("1")) {
                                    throw new DatasetException(where + ": \"class\" must be 0 or 1, found " + v);
                                }
                                label = Integer.valueOf(v);
                            } else {
                                throw new DatasetException(where + ": \"class\" must be 0, 1 or null, found " + r.peek());
                            }
                        }
                        default -> r.skipValue();
                    }
                }
                r.endObject();
                if (!hasText) {
                    throw new DatasetException(where + ": no \"text\" field");
                }
                if (text == null || text.isBlank()) {
                    table.drops().add(EMPTY_TEXT, where);
                } else if (label == null) {
                    table.drops().add(MISSING_LABEL, where);
                } else {
                    table.add(text.strip(), label, domain);
                }
            }
            r.endArray();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new DatasetException(file + ": unexpected content after the JSON array");
            }
        } catch (DatasetException e) {
            throw e;
        } catch (IOException | IllegalStateException | NumberFormatException | JsonParseException e) {
            throw new DatasetException(file + (row > 0 ? " row " + row : "") + ": malformed JSON (" + e.getMessage() + ")", e);
        }
    }
}
