/* SGEMM with B in panels: C = alpha * A B + beta * C, row-major A (M x K) and C (M x N), B
 * (K x N) stored as N / 16 panels of K x 16 floats, one after the other: B(k, j) at
 * (j / 16) * 16 K + k * 16 + j % 16 (src/ops/gemm_own.c launches it; ops_gemm.h,
 * sc_gemm_panel). The CPU convolutions' im2col writes its matrix this way (cl/conv.cl,
 * im2col_panel) so that this GEMM reads it as one sequential stream.
 *
 * Why: in the row-major im2col matrix a strip of 16 columns is a 64-byte piece of each of K
 * rows hundreds of KB apart. gemm_strip copies such a slice into private memory first and
 * parks its accumulators between short K blocks; both cost more than the FMAs at the early
 * convs' short C (16-32 rows), and the pieces come from memory at the pace of the
 * prefetches. A panel is K x 16 contiguous floats (9-26 KB at the baseline's conv1-2): the
 * first row block reads it from memory in order, the others from L1, each over the whole
 * of K with no copy and nothing parked. Measured against gemm_strip on row-major B at the
 * baseline's forward GEMMs (PoCL, AMD EPYC, a scratch A/B harness: 7 alternating rounds,
 * medians of the ratios; bench_gemm times both each run): conv1 1.38x, conv2 1.46x, conv3
 * 1.5-1.9x, conv4 1.3x.
 *
 * A work-item owns one panel (16 columns) and MB rows of C (mb, from the host), in blocks of
 * RM rows: RM accumulators of float16. Rows past M re-read row M - 1 and are never stored.
 * K needs no multiple; N must be a multiple of 16 (the host checks). beta == 0 never
 * reads C.
 * SC_CPU_HINTS (CPU devices): while the first row block runs, each step prefetches one line
 * of the next panel, which the next work-item of the group reads (1.05x at conv1); C larger
 * than the caches (stream_c) goes out with non-temporal stores. */

#ifndef RM
#define RM 6
#endif

kernel void gemm_panel(int M, int N, int K, float alpha, global const float *A, int a_off,
                       int lda, global const float *B, int b_off, float beta, global float *C,
                       int c_off, int ldc, int mb, int stream_c)
{
    int m0 = (int)get_global_id(0) * mb;
    int j0 = (int)get_global_id(1) * 16;
    if (m0 >= M || j0 >= N)
        return;
    int mend = min(M, m0 + mb);
    /* vload16, not a float16 pointer: b_off need not be a multiple of 16 floats */
    const global float *bp = B + b_off + (size_t)(j0 / 16) * 16 * (size_t)K;
    for (int i0 = m0; i0 < mend; i0 += RM) {
        float16 acc[RM];
        const global float *ar[RM];
#pragma unroll
        for (int r = 0; r < RM; r++) {
            acc[r] = (float16)(0.0f);
            ar[r] = A + a_off + (size_t)min(i0 + r, M - 1) * (size_t)lda;
        }
#ifdef SC_CPU_HINTS
        if (i0 == m0 && j0 + 16 < N) {
            for (int p = 0; p < K; p++) {
                __builtin_prefetch(bp + 16 * ((size_t)K + p));
                float16 bv = vload16(p, bp);
#pragma unroll
                for (int r = 0; r < RM; r++)
                    acc[r] = fma((float16)(ar[r][p]), bv, acc[r]);
            }
        } else
#endif
            for (int p = 0; p < K; p++) {
                float16 bv = vload16(p, bp);
#pragma unroll
                for (int r = 0; r < RM; r++)
                    acc[r] = fma((float16)(ar[r][p]), bv, acc[r]);
            }
#pragma unroll
        for (int r = 0; r < RM; r++) {
            if (i0 + r >= mend)
                break;
            global float *c = C + c_off + (size_t)(i0 + r) * (size_t)ldc + j0;
#ifdef SC_CPU_HINTS
            if (stream_c && beta == 0.0f && (size_t)c % sizeof(float16) == 0) {
                __builtin_nontemporal_store(alpha * acc[r], (global float16 *)c);
                continue;
            }
#endif
            float16 out = alpha * acc[r];
            if (beta != 0.0f)
                out += beta * vload16(0, c);
            vstore16(out, 0, c);
        }
    }
}
