/* SGEMM for op(A) op(B) = A B^T with long K (the weight gradients: K = images x pixels),
 * split along K (src/ops/gemm_dot.c launches it, then cl/gemm_sum.cl).
 *
 * Both A (M x K) and B (N x K) are read along their rows, so each C element is a dot
 * product: a tile of MR rows of A and NR rows of B keeps MR x NR accumulators of float8,
 * each a sum over K in eight lanes, and per step of 8 along K loads MR + NR vectors for
 * MR x NR FMAs, with no broadcasts and no transposes (gemm_strip transposes B for this
 * case and parks its accumulators between short K blocks). The lanes are added up once per
 * chunk of KC.
 *  - A work-item owns a group of K (kg floats, a multiple of KC) and a block of NB rows of
 *    B. For each chunk of KC it copies the chunk of all M rows of A into private memory
 *    (contiguous: the rows of A are often a power of two apart and alias in the caches),
 *    then for each tile of NR rows of B (read from B directly, in runs of KC floats) runs
 *    the tiles of A over it: the NR rows stay in L1 for all of them.
 *  - Sums over the item's chunks collect in private memory and go out once, to
 *    part[group][M][N]; gemm_sum adds the groups into C. The host picks the groups so
 *    that there are a few items per compute unit.
 *  - SC_CPU_HINTS: while the tiles of A run over one tile of B, each step prefetches one
 *    line of the next tile's rows of B, which come from memory: a new row starts a new
 *    stream, and the hardware prefetcher needs several misses to follow it.
 * Edges: rows past M or N re-read the last row and are never stored; a K chunk ending off
 * a multiple of 8 reads its last vector of B element by element, with A's copy zero there.
 * MM (M rounded up to MR), KC, NB, MR, NR come as #defines from the host.
 * PANEL (sc_gemm_panel): B is stored in panels along K, as the CPU convolutions' im2col
 * writes it (cl/conv.cl, im2col_panel): B(n, k) at (k / 16) * ldb + n * 16 + k % 16,
 * ldb = 16 N. A run of 8 along K is then half of one row's 64-byte line in a panel; KC and
 * the groups of K are multiples of 16, so a chunk starts on a panel. */

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 3
#endif
#ifndef KC
#define KC 1024
#endif
#ifndef NB
#define NB 48
#endif
#ifndef MM
#define MM 16
#endif

/* offset of row r of B, and of K offset k inside a row */
#ifdef PANEL
#define B_ROW(r) ((size_t)(r)*16)
#define B_AT(k) ((size_t)((k) >> 4) * (size_t)ldb + (size_t)((k)&15))
#else
#define B_ROW(r) ((size_t)(r) * (size_t)ldb)
#define B_AT(k) ((size_t)(k))
#endif

static float hsum8(float8 v)
{
    float4 s4 = v.lo + v.hi;
    float2 s2 = s4.lo + s4.hi;
    return s2.x + s2.y;
}

kernel void gemm_dot(int M, int N, int K, global const float *A, int a_off, int lda,
                     global const float *B, int b_off, int ldb, int kg, global float *part)
{
    int n0 = (int)get_global_id(0) * NB;
    int grp = (int)get_global_id(1);
    int kbeg = grp * kg;
    if (n0 >= N || kbeg >= K)
        return;
    int kend = min(K, kbeg + kg);
    int nn = min(NB, N - n0);
    float8 as[MM * (KC / 8)]; /* this chunk of A, row by row */
    float cs[MM * NB];        /* sums over this item's chunks */
    for (int i = 0; i < MM * NB; i++)
        cs[i] = 0.0f;

    for (int k0 = kbeg; k0 < kend; k0 += KC) {
        int kn = min(KC, kend - k0);
        int kv = (kn + 7) / 8; /* steps of 8, the last one maybe partial */
        for (int r = 0; r < MM; r++) {
            const global float *src = A + a_off + (size_t)min(r, M - 1) * (size_t)lda + k0;
            float8 *dst = as + r * (KC / 8);
            for (int v = 0; v < kn / 8; v++)
                dst[v] = vload8(v, src);
            if (kn % 8) {
                float t[8];
                for (int e = 0; e < 8; e++)
                    t[e] = e < kn % 8 ? src[(kn / 8) * 8 + e] : 0.0f;
                dst[kn / 8] = vload8(0, t);
            }
        }
        for (int j0 = 0; j0 < nn; j0 += NR) {
            const global float *br[NR];
#pragma unroll
            for (int c = 0; c < NR; c++)
                br[c] = B + b_off + B_ROW(n0 + min(j0 + c, nn - 1)) + B_AT(k0);
            for (int i0 = 0; i0 < MM; i0 += MR) {
                float8 acc[MR * NR];
#pragma unroll
                for (int t = 0; t < MR * NR; t++)
                    acc[t] = (float8)(0.0f);
                const float8 *ar = as + i0 * (KC / 8);
#ifdef SC_CPU_HINTS
                /* line q of the next tile's rows of B, one per step across the tiles of A */
                int q = (i0 / MR) * (KC / 8);
#endif
                for (int v = 0; v < kn / 8; v++) {
#ifdef SC_CPU_HINTS
                    if (q < NR * (KC / 16) && j0 + NR < nn) { /* past N: never faults */
                        int c = q / (KC / 16);
                        __builtin_prefetch(br[c] + B_ROW(NR) + B_AT((q % (KC / 16)) * 16));
                    }
                    q++;
#endif
                    float8 bv[NR];
#pragma unroll
                    for (int c = 0; c < NR; c++)
                        bv[c] = vload8(0, br[c] + B_AT(v * 8));
#pragma unroll
                    for (int r = 0; r < MR; r++) {
                        float8 a = ar[r * (KC / 8) + v];
#pragma unroll
                        for (int c = 0; c < NR; c++)
                            acc[r * NR + c] = fma(a, bv[c], acc[r * NR + c]);
                    }
                }
                if (kv > kn / 8) { /* the partial last step: A is zero past kn */
                    int v = kn / 8;
#pragma unroll
                    for (int c = 0; c < NR; c++) {
                        float t[8];
                        for (int e = 0; e < 8; e++)
                            t[e] = e < kn % 8 ? br[c][B_AT(v * 8 + e)] : 0.0f;
                        float8 bv = vload8(0, t);
#pragma unroll
                        for (int r = 0; r < MR; r++)
                            acc[r * NR + c] = fma(ar[r * (KC / 8) + v], bv, acc[r * NR + c]);
                    }
                }
#pragma unroll
                for (int r = 0; r < MR; r++)
#pragma unroll
                    for (int c = 0; c < NR; c++)
                        cs[(i0 + r) * NB + j0 + c] += hsum8(acc[r * NR + c]);
            }
        }
    }
    global float *out = part + (size_t)grp * (size_t)M * (size_t)N + n0;
    for (int r = 0; r < M && r < MM; r++)
        for (int c = 0; c < nn; c++)
            out[(size_t)r * N + c] = cs[r * NB + c];
}
