package dev.understudy.job.method;

import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.lora.LoraMerge;
import java.io.IOException;
import java.util.Locale;

/**
 * A merged model (base + PEFT adapter) streamed tensor by tensor from the base's filesystem to any
 * Hadoop filesystem through {@link LoraMerge}: the driver holds one base tensor at a time, never
 * the whole model.
 */
public final class MergedExport {
    private MergedExport() {}

    /** Merges the PEFT adapter directory {@code adapter} into {@code base}, writing to {@code out}. */
    public static LoraMerge.Result write(ModelSource base, ModelSource adapter, ModelSink out) throws IOException {
        LoraMerge.Result r = LoraMerge.export(base, adapter, out);
        System.out.printf(Locale.ROOT, "merged model: %d tensors (%d with the adapter merged in), %.1f MB -> %s%n",
                r.tensorsWritten(), r.mergedModules(), r.bytesWritten() / 1e6, out.describe());
        return r;
    }
}
