package dev.understudy.ops.pretrain;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What to pretrain: a family of members sharing one byte-level BPE tokenizer, one held-out split and
 * one token budget. Everything that changes the result is in here, so {@link #digest()} identifies a
 * family build (with the corpus digest) for caching and for checking that a checkpoint belongs to
 * the run that resumes it.
 *
 * @param name family name, written to the manifest
 * @param vocabSize target BPE vocabulary size (specials and the 256 byte tokens included)
 * @param minFrequency smallest pair count worth a BPE merge
 * @param tokenizerMaxChars characters of training documents the BPE trainer reads (0: all)
 * @param heldoutFraction share of documents held out for perplexity, in (0, 0.5]
 * @param training shared training hyper-parameters
 * @param members the members, in training order (names unique)
 * @param seed root of all randomness (split, initialisation, data order)
 */
public record FamilySpec(
        String name,
        int vocabSize,
        int minFrequency,
        long tokenizerMaxChars,
        double heldoutFraction,
        PretrainSettings training,
        List<MemberSpec> members,
        long seed) {
    /** Bumped when the meaning of a spec changes, so old caches are not reused. */
    static final String FORMAT = "understudy-pretrain/1";

    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    public FamilySpec {
        checkArgument(name != null && !name.isBlank(), "Cannot set name to '%s': a family needs a name", name);
        checkArgument(vocabSize >= 256 + 3, "Cannot set tokenizer.vocab_size to %s: it must be at least 259 (256 bytes"
                + " + 3 special tokens)", vocabSize);
        checkArgument(minFrequency >= 1, "Cannot set tokenizer.min_frequency to %s, the value must be ≥ 1", minFrequency);
        checkArgument(tokenizerMaxChars >= 0, "Cannot set tokenizer.max_chars to %s, the value must be ≥ 0 (0 reads"
                + " every training document)", tokenizerMaxChars);
        checkArgument(heldoutFraction > 0 && heldoutFraction <= 0.5, "Cannot set corpus.heldout_fraction to %s, the"
                + " value must be in (0, 0.5]", heldoutFraction);
        checkArgument(training != null, "Cannot pretrain without training settings");
        checkArgument(members != null && !members.isEmpty(), "Cannot pretrain a family without members: add at least"
                + " one under members:");
        members = List.copyOf(members);
        Set<String> names = new HashSet<>();
        for (MemberSpec m : members) {
            checkArgument(names.add(m.name()), "Cannot use member name '%s' twice", m.name());
        }
    }

    /** The member called {@code name}. */
    public MemberSpec member(String memberName) {
        return members.stream().filter(m -> m.name().equals(memberName)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("No member '" + memberName + "' in family " + name + "; members are "
                        + members.stream().map(MemberSpec::name).toList()));
    }

    /** The longest block any member trains on. */
    public int maxSeqLen() {
        return members.stream().mapToInt(m -> m.seqLen(training)).max().orElseThrow();
    }

    /** Canonical JSON of the spec (record components in declaration order). */
    public String canonicalJson() {
        return GSON.toJson(this);
    }

    /** SHA-256 (hex) of {@link #FORMAT} and {@link #canonicalJson()}. */
    public String digest() {
        return Digests.sha256Hex(FORMAT + "\n" + canonicalJson());
    }
}
