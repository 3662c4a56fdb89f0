package dev.understudy.job.engine;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The accelerator a Spark task was given: with GPU scheduling on
 * ({@code spark.executor.resource.gpu.amount} and {@code spark.task.resource.gpu.amount}), Spark
 * hands each task GPU addresses in {@code TaskContext.resources()}; the task computes on the first
 * one. Without GPU resources (or outside a task) the CPU.
 */
public final class TaskDevices {
    private TaskDevices() {}

    /** The CUDA index of the task's first GPU address, or −1 for the CPU. */
    public static int gpuIndex() {
        TaskContext tc = TaskContext.get();
        if (tc == null) {
            return -1;
        }
        scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
            return -1;
        }
        return parseAddress(gpu.get().addresses()[0]);
    }

    /** A GPU address as Spark's discovery script reports it ("0", "1", …). */
    static int parseAddress(String address) {
        try {
            return Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GPU address '" + address + "' from TaskContext.resources() is not a"
                    + " CUDA device index; make the executor's GPU discovery script report indices such as 0, 1", e);
        }
    }
}
