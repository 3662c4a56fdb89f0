package dev.understudy.job.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A Zeppelin note as Zeppelin 0.11/0.12 saves it ({@code NAME_ID.zpln}: JSON with {@code name},
 * {@code id}, {@code defaultInterpreterGroup} and {@code paragraphs[]}, each with {@code id},
 * {@code title} and {@code text}). A paragraph's first line {@code %name} picks its interpreter;
 * without one Zeppelin uses the note's default group, {@code %spark} here.
 */
record ZeppelinNote(Path file, String name, List<Paragraph> paragraphs) {

    /** One paragraph: 1-based position, id, title (may be empty), interpreter without the {@code %}, body. */
    record Paragraph(int index, String id, String title, String interpreter, String body) {
        /** How failures name it: {@code paragraph 3 "title" (id)}. */
        String label() {
            return "paragraph " + index + (title.isEmpty() ? "" : " \"" + title + "\"") + " (" + id + ")";
        }
    }

    static ZeppelinNote read(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not a Zeppelin note (JSON): " + e.getMessage(), e);
        }
        JsonNode ps = root.path("paragraphs");
        if (!root.hasNonNull("name") || !ps.isArray()) {
            throw new IOException(file + " is not a Zeppelin note: it needs \"name\" and \"paragraphs\"");
        }
        String defaultGroup = root.path("defaultInterpreterGroup").asText("spark");
        List<Paragraph> out = new ArrayList<>();
        int i = 0;
        for (JsonNode p : ps) {
            i++;
            String text = p.path("text").asText("");
            String interpreter = defaultGroup;
            String body = text;
            String trimmed = text.stripLeading();
            if (trimmed.startsWith("%")) {
                int eol = trimmed.indexOf('\n');
                String head = eol < 0 ? trimmed : trimmed.substring(0, eol);
                String[] words = head.substring(1).trim().split("\\s+", 2);
                interpreter = words[0];
                // "%spark.sql SELECT 1" on one line: the rest of the line belongs to the body
                body = (words.length > 1 ? words[1] + "\n" : "") + (eol < 0 ? "" : trimmed.substring(eol + 1));
            }
            out.add(new Paragraph(i, p.path("id").asText("?"), p.path("title").asText(""), interpreter, body));
        }
        return new ZeppelinNote(file, root.get("name").asText(), List.copyOf(out));
    }

    /** Every {@code .zpln} under {@code dir}, sorted by path. */
    static List<ZeppelinNote> readAll(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(f -> f.getFileName().toString().endsWith(".zpln")).sorted().toList();
        }
        List<ZeppelinNote> notes = new ArrayList<>();
        for (Path f : files) {
            notes.add(read(f));
        }
        return notes;
    }
}
