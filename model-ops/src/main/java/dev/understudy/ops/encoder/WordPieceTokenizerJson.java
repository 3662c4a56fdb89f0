package dev.understudy.ops.encoder;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@code tokenizer.json} of a BERT WordPiece vocabulary: the same pipeline as {@code
 * BertTokenizerFast} (Hugging Face tokenizers: {@code BertNormalizer} with clean-up, CJK spacing,
 * lower-casing and accent stripping for uncased models; {@code BertPreTokenizer} on whitespace and
 * punctuation; greedy longest-match-first {@code WordPiece} with the {@code ##} continuation prefix
 * and {@code [UNK]} for words over 100 characters or without a match; the {@code [CLS] A [SEP]} /
 * {@code [CLS] A [SEP] B [SEP]} template with token types 0/1). Devlin et al. 2019 §3 and Google's
 * {@code tokenization.py} define the algorithm.
 */
public final class WordPieceTokenizerJson {
    private WordPieceTokenizerJson() {}

    public static final String PAD = "[PAD]";
    public static final String UNK = "[UNK]";
    public static final String CLS = "[CLS]";
    public static final String SEP = "[SEP]";
    public static final String MASK = "[MASK]";

    /** The special tokens, in the order transformers registers them. */
    static final List<String> SPECIAL = List.of(PAD, UNK, CLS, SEP, MASK);

    /**
     * @param vocab tokens by id ({@code vocab.txt} order)
     * @param lowerCase uncased model: lower-case and strip accents
     * @throws ModelFormatException if a special token is missing or a token repeats
     */
    public static String build(List<String> vocab, boolean lowerCase) throws ModelFormatException {
        Map<String, Integer> ids = new HashMap<>();
        JsonObject vocabJson = new JsonObject();
        for (int i = 0; i < vocab.size(); i++) {
            if (ids.putIfAbsent(vocab.get(i), i) != null) {
                throw new ModelFormatException("vocab.txt repeats token '" + vocab.get(i) + "' (lines "
                        + (ids.get(vocab.get(i)) + 1) + " and " + (i + 1) + ")");
            }
            vocabJson.addProperty(vocab.get(i), i);
        }
        for (String s : SPECIAL) {
            if (!ids.containsKey(s)) {
                throw new ModelFormatException("vocab.txt lacks the special token " + s);
            }
        }
        JsonObject j = new JsonObject();
        j.addProperty("version", "1.0");
        j.add("truncation", JsonNull.INSTANCE);
        j.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        SPECIAL.stream().sorted((a, b) -> Integer.compare(ids.get(a), ids.get(b))).forEach(s -> {
            JsonObject t = new JsonObject();
            t.addProperty("id", ids.get(s));
            t.addProperty("content", s);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        });
        j.add("added_tokens", added);

        JsonObject normalizer = new JsonObject();
        normalizer.addProperty("type", "BertNormalizer");
        normalizer.addProperty("clean_text", true);
        normalizer.addProperty("handle_chinese_chars", true);
        normalizer.add("strip_accents", JsonNull.INSTANCE); // null: follow lowercase, as BertTokenizerFast
        normalizer.addProperty("lowercase", lowerCase);
        j.add("normalizer", normalizer);

        JsonObject pre = new JsonObject();
        pre.addProperty("type", "BertPreTokenizer");
        j.add("pre_tokenizer", pre);

        JsonObject post = new JsonObject();
        post.addProperty("type", "TemplateProcessing");
        JsonArray single = new JsonArray();
        single.add(special(CLS, 0));
        single.add(sequence("A", 0));
        single.add(special(SEP, 0));
        JsonArray pair = new JsonArray();
        pair.add(special(CLS, 0));
        pair.add(sequence("A", 0));
        pair.add(special(SEP, 0));
        pair.add(sequence("B", 1));
        pair.add(special(SEP, 1));
        post.add("single", single);
        post.add("pair", pair);
        JsonObject specials = new JsonObject();
        for (String s : List.of(CLS, SEP)) {
            JsonObject t = new JsonObject();
            t.addProperty("id", s);
            JsonArray idList = new JsonArray();
            idList.add(ids.get(s));
            t.add("ids", idList);
            JsonArray tokens = new JsonArray();
            tokens.add(s);
            t.add("tokens", tokens);
            specials.add(s, t);
        }
        post.add("special_tokens", specials);
        j.add("post_processor", post);

        JsonObject decoder = new JsonObject();
        decoder.addProperty("type", "WordPiece");
        decoder.addProperty("prefix", "##");
        decoder.addProperty("cleanup", true);
        j.add("decoder", decoder);

        JsonObject model = new JsonObject();
        model.addProperty("type", "WordPiece");
        model.addProperty("unk_token", UNK);
        model.addProperty("continuing_subword_prefix", "##");
        model.addProperty("max_input_chars_per_word", 100);
        model.add("vocab", vocabJson);
        j.add("model", model);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(j);
    }

    private static JsonObject special(String token, int typeId) {
        JsonObject inner = new JsonObject();
        inner.addProperty("id", token);
        inner.addProperty("type_id", typeId);
        JsonObject o = new JsonObject();
        o.add("SpecialToken", inner);
        return o;
    }

    private static JsonObject sequence(String id, int typeId) {
        JsonObject inner = new JsonObject();
        inner.addProperty("id", id);
        inner.addProperty("type_id", typeId);
        JsonObject o = new JsonObject();
        o.add("Sequence", inner);
        return o;
    }
}
