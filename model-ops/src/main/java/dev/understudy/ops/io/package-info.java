/**
 * Weights I/O without DJL: a safetensors reader/writer ({@link dev.understudy.ops.io.SafetensorsReader},
 * {@link dev.understudy.ops.io.SafetensorsWriter}) producing raw {@link dev.understudy.ops.io.TensorEntry}
 * values, Hugging Face checkpoint loading and saving, single file or sharded
 * ({@link dev.understudy.ops.io.Checkpoints}), and the stream-based storage seam
 * ({@link dev.understudy.ops.io.ModelSource}, {@link dev.understudy.ops.io.ModelSink}) that the
 * Spark module implements over Hadoop file systems.
 *
 * <p>Pure Java on purpose: DJL 0.35 crashes the JVM on BF16 arrays, so BF16/F16 are widened here
 * ({@link dev.understudy.ops.io.HalfFloats}) and NDArrays are created elsewhere from
 * {@code toFloats()} or the raw bytes. Errors in files are checked
 * {@link dev.understudy.ops.util.ModelFormatException}s naming the file and the problem.
 */
package dev.understudy.ops.io;
