package dev.understudy.job.data;

import dev.understudy.job.engine.ClientData;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

/**
 * Tokenises prepared rows on the executors with the base model's tokenizer: the prompt (after a BOS
 * only where the tokenizer adds one by default, {@link Tokenizer#addBosByDefault()}, as transformers
 * does: LLaMA yes, GPT-2 and Qwen2 no), then the response + EOS, encoded separately so the
 * prompt/response boundary (and so the loss mask) is exact.
 * Input rows: {@code (client_id, row_key, prompt, response, is_eval)}.
 */
public final class TokenizeFunction implements FlatMapFunction<Iterator<Row>, ClientData.TokenizedRow> {
    private static final long serialVersionUID = 1L;

    private final String modelUri;
    private final int maxLength;
    private final HadoopConf hadoop;

    /**
     * @param hadoop the driver's Hadoop settings, to reach a remote {@code modelUri}
     */
    public TokenizeFunction(String modelUri, int maxLength, HadoopConf hadoop) {
        this.modelUri = modelUri;
        this.maxLength = maxLength;
        this.hadoop = hadoop;
    }

    @Override
    public Iterator<ClientData.TokenizedRow> call(Iterator<Row> rows) {
        Tokenizer tok = ExecutorModelCache.tokenizer(modelUri, hadoop);
        List<ClientData.TokenizedRow> out = new ArrayList<>();
        while (rows.hasNext()) {
            Row r = rows.next();
            var pr = tok.encodePromptResponse(r.getString(2), r.getString(3), maxLength, tok.addBosByDefault(), true);
            out.add(new ClientData.TokenizedRow(r.getString(0), r.getString(1), r.getBoolean(4),
                    new ClientData.Tokens(pr.ids(), pr.promptLength()), pr.truncated()));
        }
        return out.iterator();
    }
}
