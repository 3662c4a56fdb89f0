package dev.understudy.ops.io;

import java.io.IOException;

/** Receives tensors one at a time from {@link SafetensorsReader#stream}. */
@FunctionalInterface
public interface TensorConsumer {
    /**
     * Handles one tensor. Its buffer is not reused by the reader, so it may be kept. An exception
     * stops the stream and propagates to the caller of {@code stream}.
     */
    void accept(TensorEntry tensor) throws IOException;
}
