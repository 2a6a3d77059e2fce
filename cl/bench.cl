/* Benchmark kernels: the device's FP32 FMA rate and memory bandwidth (bench/bench_util.h).
 * Not used by the library; embedded with the others so the benchmarks need no source tree. */

/* PEAK_CHAINS independent fma chains of floatPEAK_W per work-item: enough to cover the FMA
 * latency times the FMA pipes, few enough to stay in registers (16 on AVX2: 12 chains + the
 * two constants). x = x * a + b converges to b / (1 - a): no overflow, no denormals; the
 * result is stored so the compiler cannot drop the chains. The host tries a few shapes and
 * keeps the fastest as the device's peak. */
#ifndef PEAK_W
#define PEAK_W 8
#endif
#ifndef PEAK_CHAINS
#define PEAK_CHAINS 8
#endif
#define PCAT_(a, b) a##b
#define PCAT(a, b) PCAT_(a, b)
#define PT PCAT(float, PEAK_W)
kernel void peak_fma(global float *out, float a, float b, int iters)
{
    PT av = (PT)(a), bv = (PT)(b);
    float g = (float)get_global_id(0) * 1e-6f;
    PT x0 = (PT)(g + 0.0f);
#if PEAK_CHAINS > 1
    PT x1 = (PT)(g + 0.1f);
#endif
#if PEAK_CHAINS > 2
    PT x2 = (PT)(g + 0.2f);
#endif
#if PEAK_CHAINS > 3
    PT x3 = (PT)(g + 0.3f);
#endif
#if PEAK_CHAINS > 4
    PT x4 = (PT)(g + 0.4f);
#endif
#if PEAK_CHAINS > 5
    PT x5 = (PT)(g + 0.5f);
#endif
#if PEAK_CHAINS > 6
    PT x6 = (PT)(g + 0.6f);
#endif
#if PEAK_CHAINS > 7
    PT x7 = (PT)(g + 0.7f);
#endif
#if PEAK_CHAINS > 8
    PT x8 = (PT)(g + 0.8f);
#endif
#if PEAK_CHAINS > 9
    PT x9 = (PT)(g + 0.9f);
#endif
#if PEAK_CHAINS > 10
    PT x10 = (PT)(g + 1.0f);
#endif
#if PEAK_CHAINS > 11
    PT x11 = (PT)(g + 1.1f);
#endif
#if PEAK_CHAINS > 12
    PT x12 = (PT)(g + 1.2f);
#endif
#if PEAK_CHAINS > 13
    PT x13 = (PT)(g + 1.3f);
#endif
#if PEAK_CHAINS > 14
    PT x14 = (PT)(g + 1.4f);
#endif
#if PEAK_CHAINS > 15
    PT x15 = (PT)(g + 1.5f);
#endif
    for (int i = 0; i < iters; i++) {
        x0 = fma(x0, av, bv);
#if PEAK_CHAINS > 1
        x1 = fma(x1, av, bv);
#endif
#if PEAK_CHAINS > 2
        x2 = fma(x2, av, bv);
#endif
#if PEAK_CHAINS > 3
        x3 = fma(x3, av, bv);
#endif
#if PEAK_CHAINS > 4
        x4 = fma(x4, av, bv);
#endif
#if PEAK_CHAINS > 5
        x5 = fma(x5, av, bv);
#endif
#if PEAK_CHAINS > 6
        x6 = fma(x6, av, bv);
#endif
#if PEAK_CHAINS > 7
        x7 = fma(x7, av, bv);
#endif
#if PEAK_CHAINS > 8
        x8 = fma(x8, av, bv);
#endif
#if PEAK_CHAINS > 9
        x9 = fma(x9, av, bv);
#endif
#if PEAK_CHAINS > 10
        x10 = fma(x10, av, bv);
#endif
#if PEAK_CHAINS > 11
        x11 = fma(x11, av, bv);
#endif
#if PEAK_CHAINS > 12
        x12 = fma(x12, av, bv);
#endif
#if PEAK_CHAINS > 13
        x13 = fma(x13, av, bv);
#endif
#if PEAK_CHAINS > 14
        x14 = fma(x14, av, bv);
#endif
#if PEAK_CHAINS > 15
        x15 = fma(x15, av, bv);
#endif
    }
    PT s = x0;
#if PEAK_CHAINS > 1
    s += x1;
#endif
#if PEAK_CHAINS > 2
    s += x2;
#endif
#if PEAK_CHAINS > 3
    s += x3;
#endif
#if PEAK_CHAINS > 4
    s += x4;
#endif
#if PEAK_CHAINS > 5
    s += x5;
#endif
#if PEAK_CHAINS > 6
    s += x6;
#endif
#if PEAK_CHAINS > 7
    s += x7;
#endif
#if PEAK_CHAINS > 8
    s += x8;
#endif
#if PEAK_CHAINS > 9
    s += x9;
#endif
#if PEAK_CHAINS > 10
    s += x10;
#endif
#if PEAK_CHAINS > 11
    s += x11;
#endif
#if PEAK_CHAINS > 12
    s += x12;
#endif
#if PEAK_CHAINS > 13
    s += x13;
#endif
#if PEAK_CHAINS > 14
    s += x14;
#endif
#if PEAK_CHAINS > 15
    s += x15;
#endif
#if PEAK_W == 16
    float8 h8 = s.lo + s.hi;
    float4 h = h8.lo + h8.hi;
#elif PEAK_W == 8
    float4 h = s.lo + s.hi;
#else
    float4 h = s;
#endif
    out[get_global_id(0)] = h.x + h.y + h.z + h.w;
}

/* y = x over n float4s. */
kernel void bw_copy(global const float4 *x, global float4 *y, int n)
{
    int i = (int)get_global_id(0);
    if (i < n)
        y[i] = x[i];
}

/* z = x + s * y over n float4s (STREAM's triad). */
kernel void bw_triad(global const float4 *x, global const float4 *y, global float4 *z, float s,
                     int n)
{
    int i = (int)get_global_id(0);
    if (i < n)
        z[i] = x[i] + s * y[i];
}

/* Memory in the GEMMs' access patterns: a rows x (4 cols4) row-major matrix, rows 4 ld4
 * floats apart, where each work-item owns `run` float4s of every row, as the own GEMM's
 * work-items own column strips of B (read: the forward) or of C (write: the data
 * gradients) at conv1. bw_rows_stream writes with non-temporal stores, as the GEMM writes
 * a C larger than the caches on CPUs (plain stores elsewhere). */
kernel void bw_rows_read(global const float4 *x, int rows, int cols4, int ld4, int run,
                         global float4 *out)
{
    int j = (int)get_global_id(0) * run;
    if (j >= cols4)
        return;
    float4 acc = (float4)(0.0f);
    for (int r = 0; r < rows; r++)
        for (int s = 0; s < run; s++)
            acc += x[(size_t)r * (size_t)ld4 + j + s];
    out[get_global_id(0)] = acc;
}

/* Whole 64-byte lines per store, as the GEMM writes them; run is a multiple of 4. */
#define ROWS_WRITE(STORE)                                                                  \
    int j = (int)get_global_id(0) * run;                                                   \
    if (j >= cols4)                                                                        \
        return;                                                                            \
    for (int r = 0; r < rows; r++)                                                         \
        for (int s = 0; s < run; s += 4) {                                                 \
            float16 v = (float16)((float)(j + s));                                         \
            global float16 *p = (global float16 *)(y + (size_t)r * (size_t)ld4 + j + s);   \
            STORE;                                                                         \
        }

kernel void bw_rows_write(global float4 *y, int rows, int cols4, int ld4, int run)
{
    ROWS_WRITE(*p = v)
}

/* The store written out in the kernel: through a helper with a constant flag PoCL emitted
 * plain stores. */
kernel void bw_rows_stream(global float4 *y, int rows, int cols4, int ld4, int run)
{
#ifdef SC_CPU_HINTS
    ROWS_WRITE(__builtin_nontemporal_store(v, p))
#else
    ROWS_WRITE(*p = v)
#endif
}
