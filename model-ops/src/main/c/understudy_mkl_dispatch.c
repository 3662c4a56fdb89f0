/*
 * Lets the oneMKL that is linked into libtorch_cpu.so use its optimised (AVX2 / AVX-512) code
 * paths on AMD CPUs.
 *
 * oneMKL picks its kernels by CPU vendor as well as by instruction set: on a CPU that is not
 * GenuineIntel, mkl_serv_intel_cpu_true() answers 0 and SGEMM falls back to slower generic
 * kernels, although the CPU (an AMD EPYC with AVX-512, say) has every instruction the fast
 * kernels use. libtorch_cpu.so exports that function and calls it through its PLT with lazy
 * binding, so a definition in the global symbol scope takes precedence. This library provides
 * one that answers 1 and promotes itself to the global scope. oneMKL still chooses among the
 * kernels by the instruction sets CPUID reports, so a CPU without AVX-512 gets the AVX2
 * kernels.
 *
 * Loaded by dev.understudy.ops.util.MklCpuDispatch (which decides whether to load it at all);
 * built by model-ops/pom.xml when a C compiler is present. It has to be in place before oneMKL's
 * first call, which caches the answer for the life of the process.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jni.h>

/* glibc 2.34 moved dlopen/dladdr into libc under a new symbol version; bind to the original
 * GLIBC_2.2.5 versions, which every x86-64 glibc exports, so a library built on a new distribution
 * still loads on older executors (RHEL 8, Ubuntu 20.04). */
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");

static long vendor_checks = 0;

__attribute__((visibility("default"))) int mkl_serv_intel_cpu_true(void) {
    __atomic_add_fetch(&vendor_checks, 1, __ATOMIC_RELAXED);
    return 1;
}

/* Re-opens this already-loaded library with RTLD_GLOBAL. The JVM loads it with RTLD_LOCAL, which
 * would leave the definition above invisible to libtorch_cpu.so. */
JNIEXPORT jboolean JNICALL Java_dev_understudy_ops_util_MklCpuDispatch_nativePromoteToGlobal(JNIEnv *env,
                                                                                          jclass cls) {
    (void)env;
    (void)cls;
    Dl_info info;
    if (!dladdr((void *)&mkl_serv_intel_cpu_true, &info) || info.dli_fname == NULL) {
        return JNI_FALSE;
    }
    return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) != NULL ? JNI_TRUE : JNI_FALSE;
}

/* How many times oneMKL asked for the vendor through this library: > 0 once it has taken effect. */
JNIEXPORT jlong JNICALL Java_dev_understudy_ops_util_MklCpuDispatch_nativeVendorChecks(JNIEnv *env,
                                                                                       jclass cls) {
    (void)env;
    (void)cls;
    return __atomic_load_n(&vendor_checks, __ATOMIC_RELAXED);
}
