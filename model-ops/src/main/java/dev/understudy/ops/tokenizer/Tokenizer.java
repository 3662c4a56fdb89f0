package dev.understudy.ops.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.google.gson.JsonObject;
import dev.understudy.ops.tokenizer.TokenizerFiles.Vocabulary;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) run by DJL's bundled HF tokenizers natives,
 * plus explicit BOS/EOS/PAD handling for causal-LM training.
 *
 * <p><b>No implicit special tokens, padding or truncation.</b> {@link #encode(String)} returns
 * exactly the tokens of the text: the tokenizer.json post-processor template is not applied (DJL's
 * {@code addSpecialTokens=false}), and DJL's defaults, which would truncate every text to 512
 * tokens and pad batches to the longest, are switched off. Callers add BOS/EOS with {@link
 * #encode(String, boolean, boolean)} or {@link #encodePromptResponse}. Special-token text that
 * appears inside the input (e.g. {@code "<|eos|>"}) is still matched and encoded as that token, as
 * in HF.
 *
 * <p><b>Special-token precedence</b> for {@link #load(Path)}, per role (bos, eos, pad, unk), first
 * hit wins:
 *
 * <ol>
 *   <li>{@code tokenizer_config.json} {@code <role>_token} (a string or {@code {"content": ...}}),
 *   <li>{@code special_tokens_map.json} {@code <role>_token},
 *   <li>{@code config.json} {@code <role>_token_id} (an int, or a list whose first entry is used),
 *   <li>unk only: {@code tokenizer.json} {@code model.unk_token}.
 * </ol>
 *
 * The tokenizer files come before the model config because they are what {@code transformers}
 * (≥ 4.34, which trusts tokenizer_config.json over special_tokens_map.json) uses when it pads and
 * adds special tokens. A null entry means "not set here" and falls through. A token named in a file
 * but absent from the vocabulary is a {@link ModelFormatException}, not a silent fallback.
 * {@link #addBosByDefault()}/{@link #addEosByDefault()} come from {@code add_bos_token}/{@code
 * add_eos_token} in tokenizer_config.json, else from a post-processor template that starts/ends with
 * the BOS/EOS token, else false. {@code model_max_length} comes from tokenizer_config.json.
 *
 * <p><b>Same ids as transformers.</b> For the tokenizer classes that transformers 5 rebuilds from
 * the vocabulary with its own normalizer and pre-tokenizer (LlamaTokenizer, Qwen2Tokenizer,
 * GPT2Tokenizer), {@link #load(Path)} runs that pipeline instead of the file's; see {@link
 * TransformersPipelines}. Checked against transformers by {@code TokenizerOracleTest}.
 *
 * <p><b>Thread safety.</b> Instances are safe for concurrent {@code encode*}/{@code decode} calls.
 * DJL's {@link HuggingFaceTokenizer} sets its options once in the constructor and its encode/decode
 * methods only read them; the Rust {@code tokenizers::Tokenizer} is {@code Send + Sync} and encodes
 * through {@code &self} (the BPE cache sits behind a lock), which is also how HF itself encodes
 * batches on many threads. The one hazard is freeing the native handle while a call runs, so calls
 * hold a read lock and {@link #close()} takes the write lock; a closed tokenizer throws {@link
 * IllegalStateException}. Ids are range-checked before they reach the natives, whose errors would
 * otherwise abort the JVM.
 */
public final class Tokenizer implements AutoCloseable {

    /**
     * Special token strings by role; each field may be null.
     *
     * @param bos beginning-of-sequence token
     * @param eos end-of-sequence token
     * @param pad padding token
     * @param unk unknown token
     */
    public record SpecialTokens(String bos, String eos, String pad, String unk) {
        private static final List<String> BOS_NAMES =
                List.of("<|bos|>", "<s>", "<|begin_of_text|>", "<|startoftext|>", "[BOS]", "<bos>");
        private static final List<String> EOS_NAMES =
                List.of("<|eos|>", "</s>", "<|end_of_text|>", "<|endoftext|>", "[EOS]", "<eos>");
        private static final List<String> PAD_NAMES = List.of("<|pad|>", "<pad>", "[PAD]");
        private static final List<String> UNK_NAMES = List.of("<|unk|>", "<unk>", "[UNK]");

        /** No special tokens. */
        public static SpecialTokens none() {
            return new SpecialTokens(null, null, null, null);
        }

        /** The roles of {@link ByteLevelBpeTrainer#DEFAULT_SPECIAL_TOKENS}. */
        public static SpecialTokens defaults() {
            return new SpecialTokens("<|bos|>", "<|eos|>", "<|pad|>", null);
        }

        /**
         * Assigns roles by exact, well-known names: bos {@code <|bos|> <s> <|begin_of_text|>
         * <|startoftext|> [BOS] <bos>}, eos {@code <|eos|> </s> <|end_of_text|> <|endoftext|> [EOS]
         * <eos>}, pad {@code <|pad|> <pad> [PAD]}, unk {@code <|unk|> <unk> [UNK]}. The first listed
         * token matching a role wins; unmatched roles stay null.
         */
        public static SpecialTokens infer(List<String> tokens) {
            return new SpecialTokens(
                    first(tokens, BOS_NAMES), first(tokens, EOS_NAMES), first(tokens, PAD_NAMES), first(tokens, UNK_NAMES));
        }

        private static String first(List<String> tokens, List<String> names) {
            return tokens.stream().filter(names::contains).findFirst().orElse(null);
        }
    }

    /**
     * A prompt/response pair as one training sequence.
     *
     * @param ids {@code [BOS] prompt response [EOS]}, at most {@code maxLength} long
     * @param promptLength ids {@code [0, promptLength)} are BOS + prompt (mask them out of the loss);
     *     ids {@code [promptLength, ids.length)} are the response (+ EOS)
     * @param truncated whether any token (prompt, response or the EOS) was dropped
     */
    public record PromptResponse(int[] ids, int promptLength, boolean truncated) {
        /** Number of response tokens, EOS included. */
        public int responseLength() {
            return ids.length - promptLength;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PromptResponse p
                    && promptLength == p.promptLength
                    && truncated == p.truncated
                    && Arrays.equals(ids, p.ids);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(ids), promptLength, truncated);
        }

        @Override
        public String toString() {
            return "PromptResponse[ids=" + Arrays.toString(ids) + ", promptLength=" + promptLength
                    + ", truncated=" + truncated + "]";
        }
    }

    /** DJL options: no template tokens, no truncation (its default cuts at 512), no padding. */
    private static final Map<String, String> DJL_OPTIONS =
            Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

    private final HuggingFaceTokenizer hf;
    private final String source;
    private final Vocabulary vocab;
    private final SpecialTokens specialTokens;
    private final OptionalInt bosId;
    private final OptionalInt eosId;
    private final OptionalInt padId;
    private final OptionalInt unkId;
    private final boolean addBosByDefault;
    private final boolean addEosByDefault;
    private final OptionalInt modelMaxLength;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private Tokenizer(
            HuggingFaceTokenizer hf,
            String source,
            Vocabulary vocab,
            SpecialTokens specialTokens,
            Boolean addBos,
            Boolean addEos,
            OptionalInt modelMaxLength) {
        this.hf = hf;
        this.source = source;
        this.vocab = vocab;
        this.specialTokens = specialTokens;
        this.bosId = idOf(specialTokens.bos());
        this.eosId = idOf(specialTokens.eos());
        this.padId = idOf(specialTokens.pad());
        this.unkId = idOf(specialTokens.unk());
        this.addBosByDefault = addBos != null
                ? addBos
                : bosId.isPresent() && TokenizerFiles.templateAdds(vocab.postProcessor, bosId.getAsInt(), true);
        this.addEosByDefault = addEos != null
                ? addEos
                : eosId.isPresent() && TokenizerFiles.templateAdds(vocab.postProcessor, eosId.getAsInt(), false);
        this.modelMaxLength = modelMaxLength;
    }

    // ---- loading ----------------------------------------------------------------------------------

    /**
     * Loads {@code modelDir/tokenizer.json} and the optional {@code tokenizer_config.json}, {@code
     * special_tokens_map.json} and {@code config.json} beside it (see the class comment for
     * precedence). {@code modelDir} may also be the {@code tokenizer.json} file itself.
     *
     * @throws ModelFormatException when tokenizer.json is missing, or a file is malformed or names a
     *     special token that is not in the vocabulary; the message names the file
     */
    public static Tokenizer load(Path modelDir) throws ModelFormatException {
        Preconditions.checkNotNull(modelDir, "modelDir");
        Path file = Files.isRegularFile(modelDir) ? modelDir : modelDir.resolve("tokenizer.json");
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("No tokenizer.json in " + modelDir.toAbsolutePath()
                    + ": expected a Hugging Face fast-tokenizer file (a sentencepiece tokenizer.model"
                    + " alone is not supported; convert it with transformers' save_pretrained)");
        }
        byte[] json;
        try {
            json = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        String source = file.toString();
        JsonObject root = TokenizerFiles.parseObject(new String(json, StandardCharsets.UTF_8), source);
        Vocabulary vocab = TokenizerFiles.vocabulary(root, source);

        Path configFile = dir.resolve("tokenizer_config.json");
        Path mapFile = dir.resolve("special_tokens_map.json");
        Path modelConfigFile = dir.resolve("config.json");
        JsonObject config = TokenizerFiles.readOptional(configFile);
        JsonObject map = TokenizerFiles.readOptional(mapFile);
        JsonObject modelConfig = TokenizerFiles.readOptional(modelConfigFile);

        String[] roles = {"bos", "eos", "pad", "unk"};
        String[] resolved = new String[roles.length];
        for (int r = 0; r < roles.length; r++) {
            String field = roles[r] + "_token";
            String token = checked(vocab, TokenizerFiles.tokenString(config, field, configFile.toString()), configFile, field, file);
            if (token == null) {
                token = checked(vocab, TokenizerFiles.tokenString(map, field, mapFile.toString()), mapFile, field, file);
            }
            if (token == null) {
                OptionalInt id = TokenizerFiles.tokenId(modelConfig, field + "_id", modelConfigFile.toString());
                if (id.isPresent()) {
                    int v = id.getAsInt();
                    if (v < 0 || v >= vocab.idToToken.length || vocab.idToToken[v] == null) {
                        throw new ModelFormatException(String.format(
                                "%s sets %s_id to %d, which is not an id of %s (vocabulary size %d)",
                                modelConfigFile, field, v, file, vocab.idToToken.length));
                    }
                    token = vocab.idToToken[v];
                }
            }
            if (token == null && "unk".equals(roles[r])) {
                token = checked(vocab, vocab.modelUnk, file, "model.unk_token", file);
            }
            resolved[r] = token;
        }
        SpecialTokens special = new SpecialTokens(resolved[0], resolved[1], resolved[2], resolved[3]);
        // the pipeline transformers 5 runs for this tokenizer_class, so both encode alike
        byte[] effective = TransformersPipelines.apply(json, root, config, configFile.toString());
        return create(
                effective,
                source,
                vocab,
                special,
                TokenizerFiles.bool(config, "add_bos_token", configFile.toString()),
                TokenizerFiles.bool(config, "add_eos_token", configFile.toString()),
                TokenizerFiles.modelMaxLength(config, configFile.toString()));
    }

    /**
     * Loads a {@code tokenizer.json} from a stream (read fully, not closed) with explicitly given
     * special tokens; no other file is consulted. DJL parses the JSON from memory, so no temporary
     * file is written.
     *
     * @param special the role tokens; each non-null one must be in the vocabulary
     */
    public static Tokenizer load(InputStream tokenizerJson, SpecialTokens special) throws IOException {
        Preconditions.checkNotNull(tokenizerJson, "tokenizerJson");
        Preconditions.checkNotNull(special, "special");
        byte[] json = tokenizerJson.readAllBytes();
        String source = "tokenizer.json stream";
        Vocabulary vocab = TokenizerFiles.vocabulary(
                TokenizerFiles.parseObject(new String(json, StandardCharsets.UTF_8), source), source);
        for (String[] role : new String[][] {
            {"bos", special.bos()}, {"eos", special.eos()}, {"pad", special.pad()}, {"unk", special.unk()}
        }) {
            if (role[1] != null && !vocab.ids.containsKey(role[1])) {
                throw new ModelFormatException(String.format(
                        "%s token '%s' is not in the vocabulary of the %s", role[0], role[1], source));
            }
        }
        return create(json, source, vocab, special, null, null, OptionalInt.empty());
    }

    private static String checked(Vocabulary vocab, String token, Path file, String field, Path tokenizerFile)
            throws ModelFormatException {
        if (token != null && !vocab.ids.containsKey(token)) {
            throw new ModelFormatException(String.format(
                    "%s sets %s to '%s', which is not in the vocabulary of %s", file, field, token, tokenizerFile));
        }
        return token;
    }

    private static Tokenizer create(
            byte[] json,
            String source,
            Vocabulary vocab,
            SpecialTokens special,
            Boolean addBos,
            Boolean addEos,
            OptionalInt modelMaxLength)
            throws ModelFormatException {
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), DJL_OPTIONS);
        } catch (IOException | RuntimeException e) {
            // The natives reject structures Gson accepted (unknown model type, bad merges, ...).
            throw new ModelFormatException("HF tokenizers cannot load " + source + ": " + e.getMessage(), e);
        }
        return new Tokenizer(hf, source, vocab, special, addBos, addEos, modelMaxLength);
    }

    // ---- encoding ---------------------------------------------------------------------------------

    /**
     * Token ids of {@code text}; adds no BOS/EOS and never truncates or pads. Unpaired surrogates are
     * encoded as U+FFFD.
     */
    public int[] encode(String text) {
        Preconditions.checkNotNull(text, "text");
        lock.readLock().lock();
        try {
            checkOpen();
            long handle = TokenizersLibrary.LIB.encode(hf.getHandle(), ByteLevel.replaceLoneSurrogates(text), false);
            return idsAndFree(handle);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Token ids of {@code text}, with BOS in front and/or EOS at the end when asked.
     *
     * @throws IllegalStateException when a requested BOS/EOS is not defined for this tokenizer
     */
    public int[] encode(String text, boolean addBos, boolean addEos) {
        int bos = addBos ? requireId(bosId, "BOS", "bos_token") : -1;
        int eos = addEos ? requireId(eosId, "EOS", "eos_token") : -1;
        int[] ids = encode(text);
        if (!addBos && !addEos) {
            return ids;
        }
        int[] out = new int[ids.length + (addBos ? 1 : 0) + (addEos ? 1 : 0)];
        int at = 0;
        if (addBos) {
            out[at++] = bos;
        }
        System.arraycopy(ids, 0, out, at, ids.length);
        if (addEos) {
            out[out.length - 1] = eos;
        }
        return out;
    }

    /** {@link #encode(String)} for each text (encoded in parallel by the natives), unpadded. */
    public List<int[]> encodeBatch(List<String> texts) {
        Preconditions.checkNotNull(texts, "texts");
        List<String> clean = new ArrayList<>(texts.size());
        for (String t : texts) {
            clean.add(ByteLevel.replaceLoneSurrogates(Preconditions.checkNotNull(t, "texts element")));
        }
        if (texts.isEmpty()) {
            return List.of();
        }
        lock.readLock().lock();
        try {
            checkOpen();
            long[] handles = TokenizersLibrary.LIB.batchEncode(hf.getHandle(), clean.toArray(new String[0]), false);
            List<int[]> out = new ArrayList<>(handles.length);
            RuntimeException failure = null;
            for (long h : handles) {
                try {
                    out.add(idsAndFree(h));
                } catch (RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                throw failure;
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Encodes prompt and response separately (so the boundary is exact) and joins them as {@code
     * [BOS] prompt response [EOS]}. When that exceeds {@code maxLength}:
     *
     * <ol>
     *   <li>prompt tokens are dropped from the left (its start), keeping BOS at position 0;
     *   <li>if the prompt is gone and it is still too long, the response keeps its first {@code
     *       maxLength - [BOS]} tokens and gets no EOS: an EOS after a cut answer would teach the
     *       model to stop early. (This also drops the EOS of a response that fits only without it.)
     * </ol>
     *
     * @param maxLength at least 1 + [BOS]
     * @throws IllegalStateException when a requested BOS/EOS is not defined for this tokenizer
     */
    public PromptResponse encodePromptResponse(
            String prompt, String response, int maxLength, boolean addBos, boolean addEos) {
        Preconditions.checkNotNull(prompt, "prompt");
        Preconditions.checkNotNull(response, "response");
        Preconditions.checkArgument(
                maxLength >= (addBos ? 2 : 1),
                "Cannot set maxLength to %s, the value must leave room for BOS and one token",
                maxLength);
        int bos = addBos ? requireId(bosId, "BOS", "bos_token") : -1;
        int eos = addEos ? requireId(eosId, "EOS", "eos_token") : -1;
        return assemble(encode(prompt), encode(response), bos, eos, maxLength);
    }

    /** The truncation rules of {@link #encodePromptResponse}; {@code bos}/{@code eos} −1 = none. */
    static PromptResponse assemble(int[] prompt, int[] response, int bos, int eos, int maxLength) {
        int nBos = bos >= 0 ? 1 : 0;
        int nEos = eos >= 0 ? 1 : 0;
        int overflow = nBos + prompt.length + response.length + nEos - maxLength;
        int dropPrompt = Math.max(0, Math.min(overflow, prompt.length));
        int keptPrompt = prompt.length - dropPrompt;
        int keptResponse = response.length;
        boolean withEos = nEos == 1;
        if (overflow > dropPrompt) {
            keptResponse = Math.min(response.length, maxLength - nBos);
            withEos = false;
        }
        int[] ids = new int[nBos + keptPrompt + keptResponse + (withEos ? 1 : 0)];
        int at = 0;
        if (nBos == 1) {
            ids[at++] = bos;
        }
        System.arraycopy(prompt, dropPrompt, ids, at, keptPrompt);
        at += keptPrompt;
        System.arraycopy(response, 0, ids, at, keptResponse);
        at += keptResponse;
        if (withEos) {
            ids[at] = eos;
        }
        return new PromptResponse(ids, nBos + keptPrompt, overflow > 0);
    }

    // ---- decoding ---------------------------------------------------------------------------------

    /** Decodes ids, special tokens included. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids with the tokenizer.json decoder; invalid UTF-8 becomes U+FFFD.
     *
     * @param skipSpecial drop tokens marked {@code special} in {@code added_tokens}
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String decode(int[] ids, boolean skipSpecial) {
        Preconditions.checkNotNull(ids, "ids");
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            Preconditions.checkArgument(
                    id >= 0 && id < vocab.idToToken.length && vocab.idToToken[id] != null,
                    "Cannot decode id %s at position %s, it is not an id of %s (vocabulary size %s)",
                    id,
                    i,
                    source,
                    vocab.idToToken.length);
            longs[i] = id;
        }
        lock.readLock().lock();
        try {
            checkOpen();
            return hf.decode(longs, skipSpecial);
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- vocabulary -------------------------------------------------------------------------------

    /** 1 + the largest token id, added tokens included: the embedding rows a model needs. */
    public int vocabSize() {
        return vocab.idToToken.length;
    }

    /** Id of an exact token string (model vocab or added token), in the file's spelling. */
    public OptionalInt tokenId(String token) {
        Integer id = vocab.ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * Token string of {@code id} in the file's spelling (byte-level BPE writes a leading space as
     * {@code 'Ġ'}).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String token(int id) {
        Preconditions.checkArgument(
                id >= 0 && id < vocab.idToToken.length && vocab.idToToken[id] != null,
                "No token with id %s in %s (vocabulary size %s)",
                id,
                source,
                vocab.idToToken.length);
        return vocab.idToToken[id];
    }

    /** Whether {@code id} is an added token marked {@code special}. */
    public boolean isSpecial(int id) {
        return id >= 0 && id < vocab.special.length && vocab.special[id];
    }

    /** The resolved role tokens. */
    public SpecialTokens specialTokens() {
        return specialTokens;
    }

    public OptionalInt bosId() {
        return bosId;
    }

    public OptionalInt eosId() {
        return eosId;
    }

    public OptionalInt padId() {
        return padId;
    }

    public OptionalInt unkId() {
        return unkId;
    }

    /**
     * The id to pad with: pad if defined, else EOS (padded positions are masked, so reusing EOS is
     * safe and is what most causal-LM recipes do).
     *
     * @throws IllegalStateException when neither is defined
     */
    public int padIdOrEos() {
        if (padId.isPresent()) {
            return padId.getAsInt();
        }
        if (eosId.isPresent()) {
            return eosId.getAsInt();
        }
        throw new IllegalStateException("Tokenizer " + source + " defines neither a pad nor an eos token;"
                + " set pad_token or eos_token in tokenizer_config.json, or pass SpecialTokens with one");
    }

    /** Whether the model expects BOS in front of each sequence (see the class comment). */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    /** Whether the model expects EOS after each sequence (see the class comment). */
    public boolean addEosByDefault() {
        return addEosByDefault;
    }

    /** {@code model_max_length} of tokenizer_config.json, when set to a real length. */
    public OptionalInt modelMaxLength() {
        return modelMaxLength;
    }

    /** Frees the native tokenizer; waits for running calls. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                hf.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocabSize=" + vocabSize() + ", " + specialTokens + "]";
    }

    private void checkOpen() {
        Preconditions.checkState(!closed, "Tokenizer %s is closed", source);
    }

    private int requireId(OptionalInt id, String role, String field) {
        if (id.isEmpty()) {
            throw new IllegalStateException(String.format(
                    "Tokenizer %s has no %s token; set %s in tokenizer_config.json or pass SpecialTokens with it",
                    source, role, field));
        }
        return id.getAsInt();
    }

    private OptionalInt idOf(String token) {
        return token == null ? OptionalInt.empty() : OptionalInt.of(vocab.ids.get(token));
    }

    /**
     * Ids of a native encoding, which is then freed. Going through {@link TokenizersLibrary} instead
     * of {@link HuggingFaceTokenizer#encode} skips building DJL's {@code Encoding} (tokens, char
     * spans, masks), about a third of the encode time; with our options (no lower-casing, prefix
     * space or accent stripping) DJL passes the text to the same native call unchanged.
     */
    private static int[] idsAndFree(long encoding) {
        try {
            long[] ids = TokenizersLibrary.LIB.getTokenIds(encoding);
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = (int) ids[i];
            }
            return out;
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }
}
