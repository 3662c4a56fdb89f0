package dev.understudy.ops.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import java.nio.charset.StandardCharsets;

/**
 * The text pipeline transformers 5 actually runs for a model-specific tokenizer class, applied to a
 * {@code tokenizer.json} before DJL loads it, so that Understudy encodes a text to the same ids as
 * {@code AutoTokenizer.from_pretrained(dir)(text)}.
 *
 * <p>transformers 5 builds {@code LlamaTokenizer}, {@code Qwen2Tokenizer} and {@code
 * GPT2Tokenizer} (named by {@code tokenizer_class} in tokenizer_config.json, with or without the
 * {@code Fast} suffix) from the vocabulary and merges alone and sets its own normalizer,
 * pre-tokenizer and decoder, whatever tokenizer.json says (transformers 5.18, {@code
 * models/<name>/tokenization_<name>.py}). For most Hub files the two agree; where they do not,
 * the same text got different ids in the two worlds. Found by {@code TokenizerOracleTest}:
 *
 * <ul>
 *   <li>Llama 2 / Mistral files carry the normalizer {@code Prepend("▁"), Replace(" ", "▁")}, which
 *       turns {@code " x"} into {@code "▁▁x"}; transformers uses {@code Metaspace(prepend_scheme=
 *       "first")} (for {@code legacy: false}, its default), which gives {@code "▁x"}.
 *   <li>Qwen2: transformers always uses NFC plus Qwen's own split regex (single digits), also for a
 *       file whose pre-tokenizer is plain {@code ByteLevel}.
 * </ul>
 *
 * Other classes (e.g. {@code PreTrainedTokenizerFast}, what Understudy writes) run tokenizer.json
 * unchanged, in both worlds. The post-processor is left alone: Understudy never applies it (it adds
 * BOS/EOS itself from {@code add_bos_token}/{@code add_eos_token}).
 */
final class TransformersPipelines {
    private TransformersPipelines() {}

    /** transformers 5.18 {@code models/qwen2/tokenization_qwen2.py} PRETOKENIZE_REGEX. */
    static final String QWEN2_SPLIT =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * {@code json} with the pipeline of the tokenizer class that {@code config} names, or {@code
     * json} itself when transformers would run the file unchanged.
     *
     * @param root {@code json} parsed; modified in place when the pipeline changes
     * @param config tokenizer_config.json, or null
     */
    static byte[] apply(byte[] json, JsonObject root, JsonObject config, String configSource)
            throws ModelFormatException {
        String cls = tokenizerClass(config);
        if (cls == null) {
            return json;
        }
        switch (cls) {
            case "LlamaTokenizer" -> llama(root, config, configSource);
            case "Qwen2Tokenizer" -> qwen2(root, config, configSource);
            case "GPT2Tokenizer" -> gpt2(root, config, configSource);
            default -> {
                return json;
            }
        }
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    static String tokenizerClass(JsonObject config) {
        if (config == null || !config.has("tokenizer_class") || !config.get("tokenizer_class").isJsonPrimitive()) {
            return null;
        }
        String cls = config.get("tokenizer_class").getAsString();
        return cls.endsWith("Fast") ? cls.substring(0, cls.length() - "Fast".length()) : cls;
    }

    /** LlamaTokenizer: no normalizer, Metaspace pre-tokenizer, Replace/ByteFallback/Fuse[/Strip] decoder. */
    private static void llama(JsonObject root, JsonObject config, String src) throws ModelFormatException {
        Boolean prefix = TokenizerFiles.bool(config, "add_prefix_space", src);
        boolean addPrefixSpace = prefix == null || prefix;
        Boolean legacyFlag = TokenizerFiles.bool(config, "legacy", src);
        boolean legacy = legacyFlag != null && legacyFlag;
        String scheme = !addPrefixSpace ? "never" : legacy ? "always" : "first";
        root.add("normalizer", JsonNull.INSTANCE);
        JsonObject meta = new JsonObject();
        meta.addProperty("type", "Metaspace");
        meta.addProperty("replacement", "▁");
        meta.addProperty("prepend_scheme", scheme);
        meta.addProperty("split", false);
        root.add("pre_tokenizer", meta);
        JsonArray decoders = new JsonArray();
        JsonObject replace = new JsonObject();
        replace.addProperty("type", "Replace");
        JsonObject pattern = new JsonObject();
        pattern.addProperty("String", "▁");
        replace.add("pattern", pattern);
        replace.addProperty("content", " ");
        decoders.add(replace);
        decoders.add(typed("ByteFallback"));
        decoders.add(typed("Fuse"));
        if (addPrefixSpace) {
            JsonObject strip = typed("Strip");
            strip.addProperty("content", " ");
            strip.addProperty("start", 1);
            strip.addProperty("stop", 0);
            decoders.add(strip);
        }
        JsonObject decoder = typed("Sequence");
        decoder.add("decoders", decoders);
        root.add("decoder", decoder);
    }

    /** Qwen2Tokenizer: NFC, Split(Qwen regex, isolated) then ByteLevel without regex, ByteLevel decoder. */
    private static void qwen2(JsonObject root, JsonObject config, String src) throws ModelFormatException {
        Boolean prefix = TokenizerFiles.bool(config, "add_prefix_space", src);
        root.add("normalizer", typed("NFC"));
        JsonObject split = typed("Split");
        JsonObject regex = new JsonObject();
        regex.addProperty("Regex", QWEN2_SPLIT);
        split.add("pattern", regex);
        split.addProperty("behavior", "Isolated");
        split.addProperty("invert", false);
        JsonArray seq = new JsonArray();
        seq.add(split);
        seq.add(byteLevel(prefix != null && prefix, false));
        JsonObject pre = typed("Sequence");
        pre.add("pretokenizers", seq);
        root.add("pre_tokenizer", pre);
        root.add("decoder", byteLevel(true, true));
    }

    /** GPT2Tokenizer: file normalizer dropped, ByteLevel(add_prefix_space) pre-tokenizer and decoder. */
    private static void gpt2(JsonObject root, JsonObject config, String src) throws ModelFormatException {
        Boolean prefix = TokenizerFiles.bool(config, "add_prefix_space", src);
        root.add("normalizer", JsonNull.INSTANCE);
        root.add("pre_tokenizer", byteLevel(prefix != null && prefix, true));
        root.add("decoder", byteLevel(true, true));
    }

    private static JsonObject byteLevel(boolean addPrefixSpace, boolean useRegex) {
        JsonObject o = typed("ByteLevel");
        o.addProperty("add_prefix_space", addPrefixSpace);
        o.addProperty("trim_offsets", true);
        o.addProperty("use_regex", useRegex);
        return o;
    }

    private static JsonObject typed(String type) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        return o;
    }
}
