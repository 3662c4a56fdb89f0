package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UciSentimentImporterTest {
    /** Same shape as the package's fixtures: padded text, 0/1 classes, a trailing empty row. */
    static String fixture(String... textThenClass) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < textThenClass.length; i += 2) {
            sb.append("{\"text\":\"").append(textThenClass[i]).append("\",\"class\":").append(textThenClass[i + 1]).append("},");
        }
        return sb.append("{\"text\":\"\",\"class\":null}]").toString();
    }

    static Map<String, byte[]> packageFiles() {
        return TestArchives.files(
                "package/package.json", "{\"name\":\"sentiment\"}",
                "package/test/fixtures/corpus.js", "module.exports = [];",
                "package/test/fixtures/imdb.json", fixture("Slow and aimless.  ", "0", "A great film!  ", "1",
                        "Loved it.  ", "1"),
                "package/test/fixtures/yelp.json", fixture("Food was cold.  ", "0", "Great service.", "1"),
                "package/test/fixtures/amazon.json", fixture("Broke after a day.  ", "0"));
    }

    @Test
    void parsesTheThreeFilesTrimsTextAndDropsTheTrailingEmptyRows(@TempDir Path dir) throws Exception {
        Path tgz = TestArchives.writeTgz(dir.resolve("sentiment-5.0.2.tgz"), packageFiles());

        Table t = new UciSentimentImporter().parse(tgz);

        assertThat(t.columns()).extracting(Column::name).containsExactly("text", "label", "domain");
        assertThat(t.rows()).extracting(r -> r[0] + "|" + r[1] + "|" + r[2]).containsExactly(
                "Slow and aimless.|0|imdb", "A great film!|1|imdb", "Loved it.|1|imdb",
                "Food was cold.|0|yelp", "Great service.|1|yelp",
                "Broke after a day.|0|amazon");
        assertThat(t.countBy("domain")).containsExactly(Map.entry("amazon", 1L), Map.entry("imdb", 3L), Map.entry("yelp", 2L));
        assertThat(t.countBy("label")).containsExactly(Map.entry("0", 3L), Map.entry("1", 3L));
        assertThat(t.drops().total()).isEqualTo(3);
        assertThat(t.drops().reasons()).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo(UciSentimentImporter.EMPTY_TEXT);
            assertThat(d.examples()).containsExactly("imdb.json row 4", "yelp.json row 3", "amazon.json row 2");
        });
    }

    @Test
    void textWithoutLabelIsDroppedAsMissingLabelAndExtraFieldsAreIgnored() throws Exception {
        Table t = new Table(new UciSentimentImporter().columns());
        UciSentimentImporter.parseFile("yelp",
                "[{\"text\":\"ok\",\"class\":null},{\"id\":7,\"class\":1,\"text\":\"fine\"},{\"text\":\"   \",\"class\":1}]", t);
        assertThat(t.rows()).extracting(r -> r[0] + "|" + r[1]).containsExactly("fine|1");
        assertThat(t.drops().count(UciSentimentImporter.MISSING_LABEL)).isEqualTo(1);
        assertThat(t.drops().count(UciSentimentImporter.EMPTY_TEXT)).isEqualTo(1);
        assertThat(t.drops().reasons().get(0).examples()).containsExactly("yelp.json row 1");
    }

    @Test
    void malformedRowsFailNamingFileAndRow() {
        assertThatThrownBy(() -> parse("[{\"text\":\"a\",\"class\":0},{\"text\":\"b\",\"class\":2}]"))
                .isInstanceOf(DatasetException.class).hasMessage("imdb.json row 2: \"class\" must be 0 or 1, found 2");
        assertThatThrownBy(() -> parse("[{\"text\":\"a\",\"class\":\"1\"}]"))
                .hasMessage("imdb.json row 1: \"class\" must be 0, 1 or null, found STRING");
        assertThatThrownBy(() -> parse("[{\"text\":5,\"class\":1}]"))
                .hasMessage("imdb.json row 1: \"text\" must be a string, found NUMBER");
        assertThatThrownBy(() -> parse("[{\"class\":1}]")).hasMessage("imdb.json row 1: no \"text\" field");
        assertThatThrownBy(() -> parse("[{\"text\":\"a\",\"class\":0}, 3]"))
                .hasMessage("imdb.json row 2: expected an object {\"text\", \"class\"}, found NUMBER");
        assertThatThrownBy(() -> parse("{\"text\":\"a\"}")).hasMessageStartingWith("imdb.json: expected a JSON array");
        assertThatThrownBy(() -> parse("[{\"text\":\"a\",\"class\":0},{\"text\":\"b\" \"class\":1}]"))
                .isInstanceOf(DatasetException.class).hasMessageStartingWith("imdb.json row 2: malformed JSON");
        assertThatThrownBy(() -> parse("[{\"text\":\"a\",\"class\":0}")).hasMessageStartingWith("imdb.json row 1: malformed JSON");
    }

    @Test
    void missingFixtureFileFailsNamingItAndThePackage(@TempDir Path dir) throws Exception {
        Map<String, byte[]> files = packageFiles();
        files.remove("package/test/fixtures/yelp.json");
        Path tgz = TestArchives.writeTgz(dir.resolve("s.tgz"), files);
        assertThatThrownBy(() -> new UciSentimentImporter().parse(tgz)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("has no package/test/fixtures/yelp.json; is it sentiment@5.0.2?");
    }

    private static void parse(String json) throws Exception {
        UciSentimentImporter.parseFile("imdb", json, new Table(new UciSentimentImporter().columns()));
    }
}
