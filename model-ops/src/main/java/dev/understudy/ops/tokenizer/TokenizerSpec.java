package dev.understudy.ops.tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer.Options;
import dev.understudy.ops.tokenizer.Tokenizer.SpecialTokens;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte-level BPE tokenizer made by {@link ByteLevelBpeTrainer}: token strings by id, merges in
 * rank order, the special tokens and their roles. Immutable.
 *
 * <p>{@link #writeTo} writes three Hugging Face files that {@code transformers}' {@code
 * PreTrainedTokenizerFast}, HF {@code tokenizers} and DJL read:
 *
 * <ul>
 *   <li>{@code tokenizer.json}: model {@code BPE} ({@code vocab}, {@code merges} as {@code "a b"}
 *       strings, {@code byte_fallback:false}, {@code ignore_merges:false}, no unk token), normalizer
 *       null, pre-tokenizer {@code ByteLevel(add_prefix_space=false, use_regex=true)}, post-processor
 *       {@code Sequence[ByteLevel(trim_offsets=false), TemplateProcessing("[BOS] $A")]} (the
 *       template only when add_bos_token/add_eos_token are set; see {@link #postProcessor}), decoder
 *       {@code ByteLevel}, and the specials as {@code added_tokens} with {@code special:true}.
 *       {@code padding} and {@code truncation} are null: a padding section would make HF's {@code
 *       encode_batch} pad by default, and we pad in Java with {@link Tokenizer#padIdOrEos()}. With
 *       the default specials pad is id 0, which is also what HF/DJL pad with when asked to pad
 *       without a padding section.
 *   <li>{@code tokenizer_config.json}: {@code bos_token}, {@code eos_token}, {@code pad_token},
 *       {@code unk_token}, {@code add_bos_token}, {@code add_eos_token}, {@code model_max_length},
 *       {@code clean_up_tokenization_spaces:false}, {@code added_tokens_decoder}.
 *   <li>{@code special_tokens_map.json}: the role → token map.
 * </ul>
 *
 * <p>Output is deterministic: fields in a fixed order, vocab in id order, {@code \n} line ends,
 * UTF-8 without HTML escaping.
 */
public final class TokenizerSpec {
    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    private final List<String> tokens;
    private final List<String[]> merges;
    private final Options options;

    TokenizerSpec(List<String> tokens, List<String[]> merges, Options options) {
        this.tokens = List.copyOf(tokens);
        List<String[]> copy = new ArrayList<>(merges.size());
        for (String[] m : merges) {
            copy.add(new String[] {m[0], m[1]});
        }
        this.merges = copy;
        this.options = options;
    }

    /**
     * The pure byte-level tokenizer: the specials (ids {@code 0..k-1}, roles from {@link
     * SpecialTokens#infer}) and one token per byte (id {@code k + b}), no merges.
     */
    public static TokenizerSpec byteLevel(List<String> specialTokens) {
        Options options = Options.of(256 + specialTokens.size(), specialTokens);
        return ByteLevelBpeTrainer.train(List.of(), options);
    }

    /** Number of tokens, specials included; ids are {@code 0..vocabSize()-1}. */
    public int vocabSize() {
        return tokens.size();
    }

    /** Token strings in id order (byte-level spelling, e.g. {@code "Ġthe"}). */
    public List<String> tokens() {
        return tokens;
    }

    /** Merges in rank order, each written {@code "left right"} as in {@code tokenizer.json}. */
    public List<String> merges() {
        List<String> out = new ArrayList<>(merges.size());
        for (String[] m : merges) {
            out.add(m[0] + " " + m[1]);
        }
        return out;
    }

    /** The added special tokens; token {@code i} of this list has id {@code i}. */
    public List<String> specialTokens() {
        return options.specialTokens();
    }

    /** Which specials are BOS/EOS/PAD/UNK. */
    public SpecialTokens roles() {
        return options.roles();
    }

    /** The settings this spec was trained with. */
    public Options options() {
        return options;
    }

    /** A pure-Java encoder for this spec (no natives needed). */
    public BpeEncoder encoder() {
        return BpeEncoder.of(tokens, merges, options.specialTokens());
    }

    /** Loads this spec into a DJL-backed {@link Tokenizer} without touching the file system. */
    public Tokenizer toTokenizer() throws ModelFormatException {
        byte[] json = tokenizerJson().getBytes(StandardCharsets.UTF_8);
        try {
            return Tokenizer.load(new ByteArrayInputStream(json), roles());
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFormatException("Cannot load the generated tokenizer.json: " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tokenizer.json}, {@code tokenizer_config.json} and {@code
     * special_tokens_map.json} into {@code dir} (created if missing, files replaced).
     */
    public void writeTo(Path dir) throws IOException {
        Preconditions.checkNotNull(dir, "dir");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfigJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("special_tokens_map.json"), specialTokensMapJson(), StandardCharsets.UTF_8);
    }

    /** The exact text {@link #writeTo} writes as {@code tokenizer.json}. */
    public String tokenizerJson() {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        List<String> specials = options.specialTokens();
        for (int id = 0; id < specials.size(); id++) {
            added.add(addedToken(id, specials.get(id)));
        }
        root.add("added_tokens", added);
        root.add("normalizer", JsonNull.INSTANCE);
        root.add("pre_tokenizer", byteLevel(true));
        root.add("post_processor", postProcessor());
        root.add("decoder", byteLevel(true));

        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        JsonObject vocab = new JsonObject();
        for (int id = 0; id < tokens.size(); id++) {
            vocab.addProperty(tokens.get(id), id);
        }
        model.add("vocab", vocab);
        JsonArray mergeArray = new JsonArray();
        // "a b" strings: byte-level tokens never contain a space, and every HF tokenizers version
        // (DJL bundles 0.21, which also reads the newer [a, b] form) reads this form.
        merges().forEach(mergeArray::add);
        model.add("merges", mergeArray);
        root.add("model", model);
        return GSON.toJson(root) + "\n";
    }

    /** The exact text {@link #writeTo} writes as {@code tokenizer_config.json}. */
    public String tokenizerConfigJson() {
        JsonObject root = new JsonObject();
        root.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        SpecialTokens roles = options.roles();
        root.addProperty("bos_token", roles.bos());
        root.addProperty("eos_token", roles.eos());
        root.addProperty("pad_token", roles.pad());
        root.addProperty("unk_token", roles.unk());
        root.addProperty("add_bos_token", options.addBosToken());
        root.addProperty("add_eos_token", options.addEosToken());
        root.addProperty("model_max_length", options.modelMaxLength());
        root.addProperty("clean_up_tokenization_spaces", false);
        JsonObject decoder = new JsonObject();
        List<String> specials = options.specialTokens();
        for (int id = 0; id < specials.size(); id++) {
            JsonObject t = addedToken(id, specials.get(id));
            t.remove("id");
            decoder.add(Integer.toString(id), t);
        }
        root.add("added_tokens_decoder", decoder);
        return GSON.toJson(root) + "\n";
    }

    /** The exact text {@link #writeTo} writes as {@code special_tokens_map.json}. */
    public String specialTokensMapJson() {
        JsonObject root = new JsonObject();
        SpecialTokens roles = options.roles();
        addIfPresent(root, "bos_token", roles.bos());
        addIfPresent(root, "eos_token", roles.eos());
        addIfPresent(root, "pad_token", roles.pad());
        addIfPresent(root, "unk_token", roles.unk());
        return GSON.toJson(root) + "\n";
    }

    private static void addIfPresent(JsonObject o, String key, String value) {
        if (value != null) {
            o.addProperty(key, value);
        }
    }

    private static JsonObject addedToken(int id, String content) {
        JsonObject t = new JsonObject();
        t.addProperty("id", id);
        t.addProperty("content", content);
        t.addProperty("single_word", false);
        t.addProperty("lstrip", false);
        t.addProperty("rstrip", false);
        t.addProperty("normalized", false);
        t.addProperty("special", true);
        return t;
    }

    /**
     * {@code ByteLevel(trim_offsets=false)}, followed (inside a {@code Sequence}, as in Llama 3's
     * tokenizer.json) by a {@code TemplateProcessing} that adds BOS/EOS when {@code add_bos_token}/
     * {@code add_eos_token} are set. transformers 5 ignores {@code add_bos_token} in
     * tokenizer_config.json for a plain fast tokenizer and applies only this template, so without it
     * {@code tokenizer(text)} lacked the BOS that Understudy feeds the model. Understudy itself never
     * applies the template (DJL runs with {@code addSpecialTokens=false}; {@link Tokenizer} adds BOS
     * explicitly), so the BOS is not doubled.
     */
    private JsonObject postProcessor() {
        SpecialTokens roles = options.roles();
        boolean bos = options.addBosToken() && roles.bos() != null;
        boolean eos = options.addEosToken() && roles.eos() != null;
        if (!bos && !eos) {
            return byteLevel(false);
        }
        JsonArray single = new JsonArray();
        JsonArray pair = new JsonArray();
        JsonObject specials = new JsonObject();
        if (bos) {
            single.add(templatePiece("SpecialToken", roles.bos(), 0));
            pair.add(templatePiece("SpecialToken", roles.bos(), 0));
        }
        single.add(templatePiece("Sequence", "A", 0));
        pair.add(templatePiece("Sequence", "A", 0));
        if (eos) {
            single.add(templatePiece("SpecialToken", roles.eos(), 0));
            pair.add(templatePiece("SpecialToken", roles.eos(), 0));
        }
        if (bos) {
            pair.add(templatePiece("SpecialToken", roles.bos(), 1));
        }
        pair.add(templatePiece("Sequence", "B", 1));
        if (eos) {
            pair.add(templatePiece("SpecialToken", roles.eos(), 1));
        }
        for (String token : bos && eos ? List.of(roles.bos(), roles.eos()) : List.of(bos ? roles.bos() : roles.eos())) {
            JsonObject t = new JsonObject();
            t.addProperty("id", token);
            JsonArray ids = new JsonArray();
            ids.add(options.specialTokens().indexOf(token));
            t.add("ids", ids);
            JsonArray toks = new JsonArray();
            toks.add(token);
            t.add("tokens", toks);
            specials.add(token, t);
        }
        JsonObject template = new JsonObject();
        template.addProperty("type", "TemplateProcessing");
        template.add("single", single);
        template.add("pair", pair);
        template.add("special_tokens", specials);
        JsonArray processors = new JsonArray();
        processors.add(byteLevel(false));
        processors.add(template);
        JsonObject seq = new JsonObject();
        seq.addProperty("type", "Sequence");
        seq.add("processors", processors);
        return seq;
    }

    private static JsonObject templatePiece(String kind, String id, int typeId) {
        JsonObject inner = new JsonObject();
        inner.addProperty("id", id);
        inner.addProperty("type_id", typeId);
        JsonObject piece = new JsonObject();
        piece.add(kind, inner);
        return piece;
    }

    private static JsonObject byteLevel(boolean trimOffsets) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", false);
        o.addProperty("trim_offsets", trimOffsets);
        o.addProperty("use_regex", true);
        return o;
    }
}
