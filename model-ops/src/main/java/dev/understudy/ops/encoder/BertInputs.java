package dev.understudy.ops.encoder;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.util.ModelFormatException;
import java.util.Arrays;

/**
 * BERT's single-segment input: {@code [CLS] tokens [SEP]} (token type 0 throughout), the text's
 * WordPiece tokens truncated from the end so that the whole fits {@code maxLength}, as {@code
 * BertTokenizerFast(text, truncation=True, max_length=maxLength)} does.
 */
public final class BertInputs {
    private final Tokenizer tokenizer;
    private final int cls;
    private final int sep;
    private final int pad;

    /** @throws ModelFormatException if the vocabulary lacks [CLS], [SEP] or [PAD] */
    public BertInputs(Tokenizer tokenizer) throws ModelFormatException {
        this.tokenizer = tokenizer;
        this.cls = id(tokenizer, WordPieceTokenizerJson.CLS);
        this.sep = id(tokenizer, WordPieceTokenizerJson.SEP);
        this.pad = id(tokenizer, WordPieceTokenizerJson.PAD);
    }

    private static int id(Tokenizer t, String token) throws ModelFormatException {
        var id = t.tokenId(token);
        if (id.isEmpty()) {
            throw new ModelFormatException("the BERT tokenizer has no " + token + " token");
        }
        return id.getAsInt();
    }

    /** Encoded ids and whether any token was cut. */
    public record Encoded(int[] ids, boolean truncated) {}

    public Encoded encode(String text, int maxLength) {
        checkArgument(maxLength >= 2, "a BERT input needs max_length >= 2, got %s", maxLength);
        int[] body = tokenizer.encode(text);
        int keep = Math.min(body.length, maxLength - 2);
        int[] ids = new int[keep + 2];
        ids[0] = cls;
        System.arraycopy(body, 0, ids, 1, keep);
        ids[keep + 1] = sep;
        return new Encoded(ids, keep < body.length);
    }

    /** Ids of {@code text} without truncation. */
    public int[] encode(String text) {
        int[] body = tokenizer.encode(text);
        int[] ids = Arrays.copyOf(new int[] {cls}, body.length + 2);
        System.arraycopy(body, 0, ids, 1, body.length);
        ids[ids.length - 1] = sep;
        return ids;
    }

    public int padId() {
        return pad;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }
}
