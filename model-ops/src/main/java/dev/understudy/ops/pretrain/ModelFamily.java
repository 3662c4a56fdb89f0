package dev.understudy.ops.pretrain;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The manifest {@code family.json} of a pretrained model family: models of different sizes that
 * share one tokenizer, so that methods can refer to them by name ({@code small}, {@code large}) and
 * combine their logits token by token.
 *
 * <pre>
 * ModelFamily family = ModelFamily.load(dir).checkSharedVocabulary();
 * Path small = family.memberDir(dir, "small");      // a Hugging Face model directory
 * family.verify(new DirectoryModelSource(dir));      // the files on disk match the manifest
 * </pre>
 *
 * Layout of a family directory: {@code family.json}, {@code tokenizer/} (the shared tokenizer
 * files) and one Hugging Face model directory per member ({@code config.json}, {@code
 * model.safetensors}, {@code tokenizer.json}, ...).
 *
 * @param name family name
 * @param vocabSize tokens in the shared vocabulary
 * @param tokenizerSha256 SHA-256 (hex) of the shared {@code tokenizer.json}
 * @param specDigest digest of the {@link FamilySpec} it was built from
 * @param corpus what it was trained on
 * @param tokenBudget input tokens each member trained on (at least; whole steps)
 * @param members the members, in training order
 * @param source where the manifest was read from (for error messages), or null
 */
public record ModelFamily(
        String name,
        int vocabSize,
        String tokenizerSha256,
        String specDigest,
        Corpus corpus,
        long tokenBudget,
        List<Member> members,
        String source) {
    /** File name of the manifest inside a family directory. */
    public static final String FILE = "family.json";
    /** Sub-directory holding the shared tokenizer files. */
    public static final String TOKENIZER_DIR = "tokenizer";

    static final String FORMAT = "understudy-model-family/1";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern DIR = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    public ModelFamily {
        String where = source == null ? "model family" : source;
        require(name != null && !name.isBlank(), where, "has no family name");
        require(vocabSize > 0, where, "has vocab_size " + vocabSize + "; it must be positive");
        require(tokenizerSha256 != null && SHA256.matcher(tokenizerSha256).matches(), where,
                "has tokenizer_sha256 '" + tokenizerSha256 + "'; expected 64 lower-case hex digits");
        require(corpus != null, where, "has no corpus section");
        require(members != null && !members.isEmpty(), where, "lists no members");
        members = List.copyOf(members);
        Set<String> names = new HashSet<>();
        for (Member m : members) {
            require(names.add(m.name()), where, "lists member '" + m.name() + "' twice");
        }
    }

    /**
     * What the family was trained on.
     *
     * @param sha256 {@link Digests#documents} of the documents, in reading order
     * @param documents documents read
     * @param trainDocuments documents on the training side of the split
     * @param heldoutDocuments documents held out for perplexity
     * @param characters characters of all documents
     * @param trainTokens tokens of the training stream (BOS/EOS included)
     * @param heldoutTokens tokens of the held-out stream
     * @param sources where the documents came from (paths as given)
     */
    public record Corpus(String sha256, long documents, long trainDocuments, long heldoutDocuments, long characters,
            long trainTokens, long heldoutTokens, List<String> sources) {
        public Corpus {
            sources = sources == null ? List.of() : List.copyOf(sources);
        }
    }

    /**
     * One trained member.
     *
     * @param name member name
     * @param dir its directory, relative to the family directory
     * @param vocabSize vocab_size of its config.json
     * @param tokenizerSha256 SHA-256 of its tokenizer.json
     * @param parameters scalar parameters (tied head counted once)
     * @param embeddingParameters of which in the embedding (and untied head)
     * @param hiddenSize width
     * @param numLayers decoder blocks
     * @param numHeads query heads
     * @param numKvHeads key/value heads
     * @param intermediateSize MLP width
     * @param seqLen training block length (= max_position_embeddings)
     * @param lr peak learning rate
     * @param steps optimiser steps
     * @param tokens input tokens trained on
     * @param trainSeconds wall seconds of the training steps
     * @param tokensPerSecond training throughput
     * @param heldoutLoss mean held-out loss per token (nats)
     * @param heldoutPerplexity {@code exp(heldoutLoss)}
     * @param heldoutTokens predictions the held-out figures average over
     */
    public record Member(String name, String dir, int vocabSize, String tokenizerSha256, long parameters,
            long embeddingParameters, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
            int seqLen, double lr, long steps, long tokens, double trainSeconds, double tokensPerSecond,
            double heldoutLoss, double heldoutPerplexity, long heldoutTokens) {
        public Member {
            require(name != null && !name.isBlank(), "model family", "has a member without a name");
            require(dir != null && DIR.matcher(dir).matches(), "model family",
                    "member '" + name + "' has dir '" + dir + "'; it must be a plain sub-directory name");
        }

        /** Parameters outside the embedding (and untied head). */
        public long nonEmbeddingParameters() {
            return parameters - embeddingParameters;
        }
    }

    private static void require(boolean ok, String where, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(where + " " + problem);
        }
    }

    /** What identifies a build: the spec digest and the corpus digest. */
    public String cacheKey() {
        return specDigest + "/" + corpus.sha256();
    }

    /** The member called {@code memberName}. */
    public Member member(String memberName) {
        return findMember(memberName).orElseThrow(() -> new IllegalArgumentException(where() + " has no member '"
                + memberName + "'; its members are " + memberNames()));
    }

    /** The member called {@code memberName}, if any. */
    public Optional<Member> findMember(String memberName) {
        return members.stream().filter(m -> m.name().equals(memberName)).findFirst();
    }

    public List<String> memberNames() {
        return members.stream().map(Member::name).toList();
    }

    /** The Hugging Face directory of a member of the family stored in {@code familyDir}. */
    public Path memberDir(Path familyDir, String memberName) {
        return familyDir.resolve(member(memberName).dir());
    }

    /** A {@link ModelSource} for a member of the family stored in {@code familyDir}. */
    public ModelSource memberSource(ModelSource familyDir, String memberName) {
        return new SubdirectorySource(familyDir, member(memberName).dir());
    }

    /**
     * Checks that every member records the family's vocabulary size and tokenizer hash, so their
     * logits index the same tokens.
     *
     * @return this
     * @throws ModelFormatException naming the manifest and the first member that differs
     */
    public ModelFamily checkSharedVocabulary() throws ModelFormatException {
        return checkSharedVocabulary(memberNames());
    }

    /** As {@link #checkSharedVocabulary()} for the named members only (e.g. {@code small} and {@code large}). */
    public ModelFamily checkSharedVocabulary(List<String> memberNames) throws ModelFormatException {
        for (String n : memberNames) {
            Member m = member(n);
            if (m.vocabSize() != vocabSize) {
                throw new ModelFormatException(where() + ": member '" + m.name() + "' has vocab_size " + m.vocabSize()
                        + " but the family's shared tokenizer has " + vocabSize + " tokens; the members cannot be"
                        + " combined token by token. Retrain the family (understudy pretrain --force)");
            }
            if (!m.tokenizerSha256().equals(tokenizerSha256)) {
                throw new ModelFormatException(where() + ": member '" + m.name() + "' was trained with tokenizer "
                        + m.tokenizerSha256() + " but the family's tokenizer is " + tokenizerSha256 + "; the members"
                        + " do not share a vocabulary. Retrain the family (understudy pretrain --force)");
            }
        }
        return this;
    }

    /**
     * Checks the files against the manifest: the shared and every member's {@code tokenizer.json}
     * hash to {@link #tokenizerSha256()} and every member's {@code config.json} has the family's
     * {@code vocab_size}.
     *
     * @return this
     * @throws ModelFormatException naming the first file that differs
     */
    public ModelFamily verify(ModelSource familyDir) throws IOException {
        checkSharedVocabulary();
        checkTokenizer(familyDir, TOKENIZER_DIR + "/tokenizer.json", "the shared tokenizer");
        for (Member m : members) {
            checkTokenizer(familyDir, m.dir() + "/tokenizer.json", "member '" + m.name() + "'");
            String config = m.dir() + "/config.json";
            JsonObject json = JsonFiles.read(familyDir, config);
            int v = json.has("vocab_size") ? json.get("vocab_size").getAsInt() : -1;
            if (v != vocabSize) {
                throw new ModelFormatException(familyDir.describe(config) + ": member '" + m.name() + "' has vocab_size "
                        + v + " but " + where() + " says " + vocabSize);
            }
        }
        return this;
    }

    private void checkTokenizer(ModelSource familyDir, String file, String what) throws IOException {
        String sha;
        try (InputStream in = familyDir.open(file)) {
            sha = Digests.sha256Hex(in);
        }
        if (!sha.equals(tokenizerSha256)) {
            throw new ModelFormatException(familyDir.describe(file) + " (" + what + ") has SHA-256 " + sha + " but "
                    + where() + " records " + tokenizerSha256 + "; the tokenizer was changed after training");
        }
    }

    private String where() {
        return source != null ? source : "model family '" + name + "'";
    }

    // ---- JSON ----

    /** Reads {@code family.json} from a local family directory. */
    public static ModelFamily load(Path familyDir) throws IOException {
        return load(new DirectoryModelSource(familyDir));
    }

    /** Reads and validates {@code family.json}. */
    public static ModelFamily load(ModelSource familyDir) throws IOException {
        String where = familyDir.describe(FILE);
        JsonObject o = JsonFiles.read(familyDir, FILE);
        try {
            String format = string(o, "format", where);
            if (!FORMAT.equals(format)) {
                throw new ModelFormatException(where + " has format '" + format + "', expected '" + FORMAT + "'");
            }
            JsonObject c = object(o, "corpus", where);
            List<String> sources = new ArrayList<>();
            if (c.has("sources")) {
                c.getAsJsonArray("sources").forEach(e -> sources.add(e.getAsString()));
            }
            Corpus corpus = new Corpus(string(c, "sha256", where), num(c, "documents", where).longValue(),
                    num(c, "train_documents", where).longValue(), num(c, "heldout_documents", where).longValue(),
                    num(c, "characters", where).longValue(), num(c, "train_tokens", where).longValue(),
                    num(c, "heldout_tokens", where).longValue(), sources);
            List<Member> members = new ArrayList<>();
            JsonElement ms = o.get("members");
            if (ms == null || !ms.isJsonArray()) {
                throw new ModelFormatException(where + " has no \"members\" array");
            }
            for (JsonElement e : ms.getAsJsonArray()) {
                if (!e.isJsonObject()) {
                    throw new ModelFormatException(where + ": every entry of \"members\" must be an object, found " + e);
                }
                JsonObject m = e.getAsJsonObject();
                String at = where + " member " + (m.has("name") ? "'" + m.get("name").getAsString() + "'" : "#" + members.size());
                members.add(parseMember(m, at));
            }
            return new ModelFamily(string(o, "name", where), num(o, "vocab_size", where).intValue(),
                    string(o, "tokenizer_sha256", where), string(o, "spec_digest", where), corpus,
                    num(o, "token_budget", where).longValue(), members, where);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new ModelFormatException(msg.startsWith(where) ? msg : where + ": " + msg, e);
        }
    }

    /** Parses one entry of {@code members}; {@code at} names it in errors. */
    static Member parseMember(JsonObject m, String at) throws ModelFormatException {
        return new Member(string(m, "name", at), string(m, "dir", at), num(m, "vocab_size", at).intValue(),
                string(m, "tokenizer_sha256", at), num(m, "parameters", at).longValue(),
                num(m, "embedding_parameters", at).longValue(), num(m, "hidden_size", at).intValue(),
                num(m, "num_layers", at).intValue(), num(m, "num_heads", at).intValue(),
                num(m, "num_kv_heads", at).intValue(), num(m, "intermediate_size", at).intValue(),
                num(m, "seq_len", at).intValue(), num(m, "lr", at).doubleValue(), num(m, "steps", at).longValue(),
                num(m, "tokens", at).longValue(), num(m, "train_seconds", at).doubleValue(),
                num(m, "tokens_per_second", at).doubleValue(), num(m, "heldout_loss", at).doubleValue(),
                num(m, "heldout_perplexity", at).doubleValue(), num(m, "heldout_tokens", at).longValue());
    }

    private static String string(JsonObject o, String key, String where) throws ModelFormatException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new ModelFormatException(where + " needs a string \"" + key + "\", found " + e);
        }
        return e.getAsString();
    }

    private static Number num(JsonObject o, String key, String where) throws ModelFormatException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            if (e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()
                    && List.of("NaN", "Infinity", "-Infinity").contains(e.getAsString())) {
                return Double.parseDouble(e.getAsString()); // how memberJson writes non-finite values
            }
            throw new ModelFormatException(where + " needs a number \"" + key + "\", found " + e);
        }
        return e.getAsNumber();
    }

    private static JsonObject object(JsonObject o, String key, String where) throws ModelFormatException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonObject()) {
            throw new ModelFormatException(where + " needs an object \"" + key + "\", found " + e);
        }
        return e.getAsJsonObject();
    }

    /** The manifest as JSON (the {@code source} is not written). */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("name", name);
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("tokenizer", TOKENIZER_DIR);
        o.addProperty("tokenizer_sha256", tokenizerSha256);
        o.addProperty("spec_digest", specDigest);
        o.addProperty("token_budget", tokenBudget);
        JsonObject c = new JsonObject();
        c.addProperty("sha256", corpus.sha256());
        c.addProperty("documents", corpus.documents());
        c.addProperty("train_documents", corpus.trainDocuments());
        c.addProperty("heldout_documents", corpus.heldoutDocuments());
        c.addProperty("characters", corpus.characters());
        c.addProperty("train_tokens", corpus.trainTokens());
        c.addProperty("heldout_tokens", corpus.heldoutTokens());
        JsonArray sources = new JsonArray();
        corpus.sources().forEach(sources::add);
        c.add("sources", sources);
        o.add("corpus", c);
        JsonArray ms = new JsonArray();
        for (Member m : members) {
            ms.add(memberJson(m));
        }
        o.add("members", ms);
        return o;
    }

    /** One entry of {@code members}. */
    static JsonObject memberJson(Member m) {
        JsonObject j = new JsonObject();
        j.addProperty("name", m.name());
        j.addProperty("dir", m.dir());
        j.addProperty("vocab_size", m.vocabSize());
        j.addProperty("tokenizer_sha256", m.tokenizerSha256());
        j.addProperty("parameters", m.parameters());
        j.addProperty("embedding_parameters", m.embeddingParameters());
        j.addProperty("non_embedding_parameters", m.nonEmbeddingParameters());
        j.addProperty("hidden_size", m.hiddenSize());
        j.addProperty("num_layers", m.numLayers());
        j.addProperty("num_heads", m.numHeads());
        j.addProperty("num_kv_heads", m.numKvHeads());
        j.addProperty("intermediate_size", m.intermediateSize());
        j.addProperty("seq_len", m.seqLen());
        j.add("lr", number(m.lr()));
        j.addProperty("steps", m.steps());
        j.addProperty("tokens", m.tokens());
        j.add("train_seconds", number(m.trainSeconds()));
        j.add("tokens_per_second", number(m.tokensPerSecond()));
        j.add("heldout_loss", number(m.heldoutLoss()));
        j.add("heldout_perplexity", number(m.heldoutPerplexity()));
        j.addProperty("heldout_tokens", m.heldoutTokens());
        return j;
    }

    /** JSON has no NaN or infinities: write them as strings ("NaN"), which {@link #load} reads back. */
    private static JsonPrimitive number(double d) {
        return Double.isFinite(d) ? new JsonPrimitive(d) : new JsonPrimitive(Double.toString(d));
    }

    /** Writes {@code family.json} atomically into a local family directory. */
    public void write(Path familyDir) throws IOException {
        write(new DirectoryModelSink(familyDir));
    }

    /** Writes {@code family.json} atomically. */
    public void write(ModelSink familyDir) throws IOException {
        JsonFiles.write(familyDir, FILE, toJson());
    }

    /** A copy that remembers where it was read from. */
    public ModelFamily withSource(String where) {
        return new ModelFamily(name, vocabSize, tokenizerSha256, specDigest, corpus, tokenBudget, members, where);
    }

    /** Reads the files of one member through the family's source. */
    private record SubdirectorySource(ModelSource parent, String dir) implements ModelSource {
        @Override
        public InputStream open(String relativePath) throws IOException {
            return parent.open(dir + "/" + relativePath);
        }

        @Override
        public boolean exists(String relativePath) throws IOException {
            return parent.exists(dir + "/" + relativePath);
        }

        @Override
        public String describe() {
            return parent.describe(dir);
        }

        @Override
        public Optional<Path> localPath(String relativePath) {
            return parent.localPath(dir + "/" + relativePath);
        }
    }
}
