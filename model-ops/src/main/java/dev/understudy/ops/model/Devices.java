package dev.understudy.ops.model;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Device selection. CPU by default (fp32); a CUDA device when one is present and asked for by index,
 * so a Spark task can pass the GPU address it was given in {@code TaskContext.resources()}.
 */
public final class Devices {
    private Devices() {}

    /** Number of CUDA devices libtorch sees (0 on the CPU-only native build). */
    public static int gpuCount() {
        return Engine.getEngine("PyTorch").getGpuCount();
    }

    /**
     * The device to compute on: {@code cuda:index} when {@code gpuIndex ≥ 0}, else the CPU.
     *
     * @throws IllegalArgumentException if the GPU index does not exist on this machine
     */
    public static Device select(int gpuIndex) {
        if (gpuIndex < 0) {
            return Device.cpu();
        }
        int n = gpuCount();
        checkArgument(gpuIndex < n, "GPU %s was requested but libtorch sees %s GPU(s); check the executor's GPU"
                + " resources and that a CUDA build of the PyTorch natives is on the classpath", gpuIndex, n);
        return Device.gpu(gpuIndex);
    }

    /** The first GPU if any, else the CPU. */
    public static Device auto() {
        return gpuCount() > 0 ? Device.gpu(0) : Device.cpu();
    }
}
