/* SGEMM, row-major: C = alpha * op(A) op(B) + beta * C (src/ops/gemm_own.c launches it).
 *
 * One kernel for the four transpose combinations, written for CPU runtimes first (PoCL
 * runs a work-group as a loop over its work-items and keeps floatN values in SIMD
 * registers) and valid everywhere:
 *  - a work-item owns NS strips of C, each up to NRB * RM rows x VW columns. It walks K in
 *    blocks of KB. For each block it first copies its KB x NS * VW slice of op(B) into
 *    private memory (transposing when op(B) = B^T), then, for each block of RM rows and
 *    each strip, runs the register kernel: RM accumulators of floatVW, one broadcast of
 *    op(A) per row and step of K. Strips inside row blocks: each row of C is then written
 *    as NS * VW consecutive floats at once (the data gradients' 26-77 MB of C went out
 *    1.1-1.15x faster than strip by strip), and the RM rows of A stay in L1 across strips.
 *  - Why the copy: the rows of B are far apart (512 KB at conv1's im2col matrix), so a
 *    column strip of B is one short piece of each of K rows: slow to read, and with
 *    power-of-two row lengths every piece falls on the same cache set. The private copy
 *    is contiguous, read once from memory in runs of NS * VW floats and reused by every row
 *    block. (Reading B in place, at conv.c's padded rows, measured 0.45-0.51x at conv1's
 *    forward.) NS > 1 reads each row of B in longer runs (fewer pages per byte).
 *    Accumulators of the row blocks other than the current one wait in private memory
 *    between K blocks (RM loads and stores per KB * RM FMAs).
 *  - No local memory and no barriers: PoCL keeps private values in registers only inside
 *    barrier-free code.
 * Edges: rows past M re-read row M - 1 and are never stored; columns past N read as 0 and
 * are never stored; the last K block is shorter. beta == 0 never reads C (it may hold NaN).
 * Offsets and leading dimensions are in floats; the host checks every index fits its types.
 * Tile sizes come as #defines prepended by the host (defaults below).
 *
 * SC_CPU_HINTS (set by the host on CPU devices, whose compilers are clang):
 *  - while the first row block of a strip runs, each step of K also prefetches one 64-byte
 *    line of the op(B) slice the next copy_b will read (the next K block of this strip,
 *    else the first block of the next strip, which the next work-item of the group owns).
 *    Why: the rows of B are ldb apart, too many streams for the hardware prefetcher, and
 *    perf put 57% of the conv1 GEMM's time on copy_b's loads waiting for DRAM. OpenCL's
 *    prefetch() is a no-op in PoCL; clang's builtin lowers to prefetcht0.
 *  - stream_c (the host sets it when C is larger than the caches): C is written with
 *    non-temporal stores, so the cache lines are not first read from memory (the data
 *    gradients of the early convs write 26-77 MB and measured 1.3-1.6x faster). */

#ifndef VW
#define VW 16 /* columns per work-item: one floatVW (4, 8 or 16) */
#endif
#ifndef RM
#define RM 6 /* rows per register block (1..8) */
#endif
#ifndef NRB
#define NRB 16 /* register blocks per work-item: rows per work-item = NRB * RM */
#endif
#ifndef NS
#define NS 1 /* strips of VW columns per work-item (longer runs of each row of B) */
#endif
#ifndef KB
#define KB 128 /* K block: the private copy of op(B) holds KB x NS * VW floats */
#endif
#ifndef TA
#define TA 0 /* op(A) = A^T: A stored K x M */
#endif
#ifndef TB
#define TB 0 /* op(B) = B^T: B stored N x K */
#endif

/* Where op(B)(p, j) = B^T lives: row j of B at K offset p. PANEL (TB only, sc_gemm_panel):
 * B in panels along K, as the CPU convolutions' im2col writes it (cl/conv.cl,
 * im2col_panel), with ldb the floats of a panel (16 N); the host makes KB a multiple of 16,
 * so K blocks start on a panel, and a run of 8 along K is half a 64-byte line. */
#if TB && defined(PANEL)
#define BT_AT(j, p) ((size_t)((p) >> 4) * (size_t)ldb + (size_t)(j)*16 + (size_t)((p)&15))
#else
#define BT_AT(j, p) ((size_t)(j) * (size_t)ldb + (size_t)(p))
#endif

#ifdef SC_CPU_HINTS
#if TB
/* line p: row jp + pv of B from K offset kp + pc; lines taken row by row */
#define PREFETCH_STEP(p)                                                                   \
    if (pv < NS * VW) {                                                                   \
        __builtin_prefetch(pf + BT_AT(pv, pc));                                           \
        pc += 16;                                                                          \
        if (pc >= pf_k) {                                                                  \
            pc = 0;                                                                        \
            pv++;                                                                          \
        }                                                                                  \
    }
#else
/* line p: row kp + p of B at this strip's columns */
#define PREFETCH_STEP(p)                                                                   \
    if ((p) < pf_k)                                                                        \
        __builtin_prefetch(pf + (size_t)(p) * (size_t)ldb + s * VW);
#endif
#else
#define PREFETCH_STEP(p)
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VT CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define MB (RM * NRB)

/* alpha * acc (+ beta * old): old is only read when beta != 0. */
#define AXPBY(acc, old) (beta == 0.0f ? alpha * (acc) : alpha * (acc) + beta * (old))

#if (TB && (VW == 8 || VW == 16)) || defined(MV)
/* The 8 x 8 block at rows r[0..7] (8 floats each): out[p] = column p, by the unpack /
 * shuffle / 128-bit-lane steps of an AVX transpose (24 shuffles for 64 floats, where
 * element-wise copying costs 64 loads and 64 stores). copy_b's B^T, gemm_panel_nt's A. */
static void transpose8(const float8 *r, float8 *out)
{
    float8 t[8], u[8];
#pragma unroll
    for (int i = 0; i < 8; i += 2) {
        float8 a = r[i], b = r[i + 1];
        t[i] = (float8)(a.s0, b.s0, a.s1, b.s1, a.s4, b.s4, a.s5, b.s5);
        t[i + 1] = (float8)(a.s2, b.s2, a.s3, b.s3, a.s6, b.s6, a.s7, b.s7);
    }
#pragma unroll
    for (int h = 0; h < 8; h += 4) {
        float8 a = t[h], b = t[h + 1], c = t[h + 2], d = t[h + 3];
        u[h] = (float8)(a.s0, a.s1, c.s0, c.s1, a.s4, a.s5, c.s4, c.s5);
        u[h + 1] = (float8)(a.s2, a.s3, c.s2, c.s3, a.s6, a.s7, c.s6, c.s7);
        u[h + 2] = (float8)(b.s0, b.s1, d.s0, d.s1, b.s4, b.s5, d.s4, d.s5);
        u[h + 3] = (float8)(b.s2, b.s3, d.s2, d.s3, b.s6, b.s7, d.s6, d.s7);
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        out[i] = (float8)(u[i].lo, u[i + 4].lo);
        out[i + 4] = (float8)(u[i].hi, u[i + 4].hi);
    }
}
#endif

/* bs[p * NS + s] = op(B)(k0 + p, jw + s * VW .. + VW) for p < kn, columns past N as 0. */
static void copy_b(VT *bs, global const float *B, int b_off, int ldb, int N, int k0, int kn,
                   int jw)
{
#if TB
    /* op(B)(p, j) = B[j * ldb + p]: NS * VW rows of B, each contiguous along K. */
#if VW == 8 || VW == 16
    /* Full strips and whole steps of 8 along K: vector loads and in-register transposes
       (the weight gradients spent ~30% of their time in the element-wise copy below). */
    if (jw + NS * VW <= N && kn % 8 == 0) {
        for (int s = 0; s < NS; s++)
            for (int p0 = 0; p0 < kn; p0 += 8) {
                float8 cols[VW / 8][8];
#pragma unroll
                for (int h = 0; h < VW / 8; h++) {
                    float8 rows[8];
#pragma unroll
                    for (int i = 0; i < 8; i++)
                        rows[i] = vload8(0, B + b_off + BT_AT(jw + s * VW + h * 8 + i, k0 + p0));
                    transpose8(rows, cols[h]);
                }
#pragma unroll
                for (int i = 0; i < 8; i++)
#if VW == 16
                    bs[(p0 + i) * NS + s] = (float16)(cols[0][i], cols[1][i]);
#else
                    bs[(p0 + i) * NS + s] = cols[0][i];
#endif
            }
        return;
    }
#endif
    float *t = (float *)bs;
    for (int v = 0; v < NS * VW; v++) {
        const global float *row = B + b_off + BT_AT(min(jw + v, N - 1), k0);
        float keep = jw + v < N ? 1.0f : 0.0f;
        float *dst = t + (v / VW) * VW + v % VW;
        for (int p = 0; p < kn; p++)
            dst[p * NS * VW] = keep * row[BT_AT(0, p)];
    }
#else
    /* op(B)(p, j) = B[p * ldb + j]: kn row segments of NS * VW floats. */
    const global float *src = B + b_off + (size_t)k0 * (size_t)ldb + jw;
    if (jw + NS * VW <= N) {
        for (int p = 0; p < kn; p++)
            for (int s = 0; s < NS; s++)
                bs[p * NS + s] = VLOAD(s, src + (size_t)p * (size_t)ldb);
    } else {
        int nv = N - jw;
        float *t = (float *)bs;
        for (int p = 0; p < kn; p++)
            for (int v = 0; v < NS * VW; v++)
                t[p * NS * VW + v] = v < nv ? src[(size_t)p * (size_t)ldb + v] : 0.0f;
    }
#endif
}

#if defined(SC_CPU_HINTS) && !TA
/* Where the lines to prefetch start: the op(B) slice of K block kp of the strip at column
 * jp (NS * VW columns), or NULL when there is none (or a partial strip, read as is). */
static const global float *prefetch_base(global const float *B, int b_off, int ldb, int N,
                                         int K, int k0, int jw, int *kp, int *jp)
{
    *kp = k0 + KB;
    *jp = jw;
    if (*kp >= K) {
        *kp = 0;
        *jp = jw + NS * VW;
    }
    if (*jp + NS * VW > N)
        return 0;
#if TB
    return B + b_off + BT_AT(*jp, *kp);
#else
    return B + b_off + (size_t)*kp * (size_t)ldb + *jp;
#endif
}
#endif

kernel void gemm_strip(int M, int N, int K, float alpha, global const float *A, int a_off,
                       int lda, global const float *B, int b_off, int ldb, float beta,
                       global float *C, int c_off, int ldc, int stream_c)
{
    int m0 = (int)get_global_id(0) * MB;
    int jw = (int)get_global_id(1) * (NS * VW);
    if (m0 >= M || jw >= N)
        return;
    int rows = min(MB, M - m0);
    VT cacc[NS * MB]; /* accumulators of the register blocks between K blocks */
    VT bs[KB * NS];   /* this K block's slice of op(B) */

    for (int k0 = 0; k0 < K; k0 += KB) {
        int kn = min(KB, K - k0);
        int first = k0 == 0, last = k0 + KB >= K;
        copy_b(bs, B, b_off, ldb, N, k0, kn, jw);
#if defined(SC_CPU_HINTS) && !TA
        int kp, jp;
        const global float *pf = prefetch_base(B, b_off, ldb, N, K, k0, jw, &kp, &jp);
        int pf_k = min(KB, K - kp); /* floats of K in the prefetched block */
#endif
        for (int rb = 0; rb * RM < rows; rb++) {
            int i0 = m0 + rb * RM;
            for (int s = 0; s < NS; s++) {
                int j0 = jw + s * VW;
                if (j0 >= N)
                    break;
                int nv = min(VW, N - j0);
                VT *park = cacc + (s * NRB + rb) * RM;
                VT acc[RM];
#pragma unroll
                for (int r = 0; r < RM; r++)
                    acc[r] = first ? (VT)(0.0f) : park[r];
#if TA
                /* op(A)(i, p) = A[p * lda + i]: RM neighbours in each row of A. No
                   prefetch: these calls (data gradients) have short K and their time goes
                   to writing C; prefetching measured 0.7-1.0x. */
                const global float *ap = A + a_off + (size_t)k0 * (size_t)lda + i0;
                int ri[RM];
#pragma unroll
                for (int r = 0; r < RM; r++)
                    ri[r] = min(i0 + r, M - 1) - i0;
                for (int p = 0; p < kn; p++) {
                    VT bv = bs[p * NS + s];
#pragma unroll
                    for (int r = 0; r < RM; r++)
                        acc[r] = fma((VT)(ap[ri[r]]), bv, acc[r]);
                    ap += lda;
                }
#else
                /* op(A)(i, p) = A[i * lda + p]: RM rows of A, each read along K. */
                const global float *ar[RM];
#pragma unroll
                for (int r = 0; r < RM; r++)
                    ar[r] = A + a_off + (size_t)min(i0 + r, M - 1) * (size_t)lda + k0;
/* The register kernel over this K block with STEP first in each step: written twice so
   that only the first row block's loop carries the prefetches. */
#define K_LOOP(STEP)                                                                       \
    for (int p = 0; p < kn; p++) {                                                         \
        STEP;                                                                              \
        VT bv = bs[p * NS + s];                                                            \
        _Pragma("unroll") for (int r = 0; r < RM; r++)                                     \
            acc[r] = fma((VT)(ar[r][p]), bv, acc[r]);                                      \
    }
#ifdef SC_CPU_HINTS
                if (rb == 0 && pf) {
#if TB
                    int pv = 0, pc = 0;
#endif
                    K_LOOP(PREFETCH_STEP(p))
                } else
#endif
                    K_LOOP((void)0)
#endif
                if (!last) {
#pragma unroll
                    for (int r = 0; r < RM; r++)
                        park[r] = acc[r];
                    continue;
                }
#pragma unroll
                for (int r = 0; r < RM; r++) {
                    int i = i0 + r;
                    if (i >= M)
                        break;
                    global float *c = C + c_off + (size_t)i * (size_t)ldc + j0;
#ifdef SC_CPU_HINTS
                    if (stream_c && nv == VW && beta == 0.0f && (size_t)c % sizeof(VT) == 0) {
                        __builtin_nontemporal_store(alpha * acc[r], (global VT *)c);
                    } else
#endif
                    if (nv == VW) {
                        VT old = beta == 0.0f ? (VT)(0.0f) : VLOAD(0, c);
                        VSTORE(AXPBY(acc[r], old), 0, c);
                    } else {
                        float out[VW];
                        VSTORE(acc[r], 0, out);
                        for (int v = 0; v < nv; v++)
                            c[v] = AXPBY(out[v], c[v]);
                    }
                }
            }
        }
    }
}

/* gemm_panel_nt: C = A B^T with B in panels along K, the CPU convolutions' weight gradients
 * on the im2col matrix their forward kept (src/ops/gemm_dot.c launches it split along K,
 * then cl/gemm_sum.cl adds the groups; it shares transpose8 with copy_b, hence this file).
 * A is M x K row-major (the output gradient); B is N x K as K / 16 panels of N x 16:
 * B(n, k) at (k / 16) * ldb + n * 16 + k % 16, ldb = 16 N (cl/conv.cl, im2col_panel).
 *
 * Why: in a panel, row n's 16 values along K are one 64-byte line, and C has few rows
 * (16-32 at the early convs). So C's rows go into the vector lanes: a column n of a block
 * of 16 MV rows of C is MV float16 accumulators, and each value of B is loaded once,
 * broadcast, and used for 16 MV FMAs; no sums across lanes (gemm_dot, the dot product
 * form, adds its lanes up every chunk and reads each line of B in two halves).
 *  - A work-item owns a block of 16 MV rows of C and a group of K (kg, a multiple of KC).
 *    Per chunk of KC it copies the block's rows of A, transposed by 8 x 8 shuffles, into
 *    private memory (at[k][v]: rows 16 v .. 16 v + 15 at K offset k). Then for each tile
 *    of NR columns it takes the tile's sums from private memory (cs), runs the chunk's
 *    panels with NR x MV float16 in registers, and puts them back.
 *  - The sums go out once, to part[group][M][N].
 *  - SC_CPU_HINTS: each panel step prefetches the tile's lines of the next chunk (the same
 *    rows KC / 16 panels on), which come from memory: 1.25x at conv1.
 * M must be a multiple of 16 MV and K of 16, cs must hold N rounded up to NR (the host
 * checks); columns past N re-read column N - 1 and are never stored. MV (float16 per
 * column of C: 16 MV rows per work-item), NR (columns per tile: NR x MV float16
 * accumulators), KC (the K chunk, a multiple of 16) and CS (float16 of private sums) come
 * from the host, and only a program built with them has this kernel: the others
 * (gemm_strip's) compile without it. */
#ifdef MV

kernel void gemm_panel_nt(int M, int N, int K, global const float *A, int a_off, int lda,
                          global const float *B, int b_off, int ldb, int kg,
                          global float *part)
{
    int m0 = (int)get_global_id(0) * 16 * MV;
    int grp = (int)get_global_id(1);
    int kbeg = grp * kg;
    if (m0 >= M || kbeg >= K)
        return;
    int kend = min(K, kbeg + kg);
    float16 at[KC * MV]; /* this chunk of A, transposed */
    float16 cs[CS];      /* sums over this item's chunks, column by column */
    for (int i = 0; i < CS; i++)
        cs[i] = (float16)(0.0f);

    for (int k0 = kbeg; k0 < kend; k0 += KC) {
        int kn = min(KC, kend - k0); /* a multiple of 16 */
        /* each row's line of 16 at once: a line read in halves may be gone before its second
           (rows of 2^n floats apart share a cache set) */
        for (int k = 0; k < kn; k += 16)
            for (int v = 0; v < MV; v++) {
                float8 cols[2][2][8]; /* [half of the rows][half of the line][column] */
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    float8 lo[8], hi[8];
#pragma unroll
                    for (int i = 0; i < 8; i++) {
                        size_t row = (size_t)(m0 + 16 * v + 8 * h + i);
                        float16 r = vload16(0, A + a_off + row * (size_t)lda + k0 + k);
                        lo[i] = r.lo;
                        hi[i] = r.hi;
                    }
                    transpose8(lo, cols[h][0]);
                    transpose8(hi, cols[h][1]);
                }
#pragma unroll
                for (int i = 0; i < 8; i++) {
                    at[(k + i) * MV + v] = (float16)(cols[0][0][i], cols[1][0][i]);
                    at[(k + 8 + i) * MV + v] = (float16)(cols[0][1][i], cols[1][1][i]);
                }
            }
        const global float *bk = B + b_off + (size_t)(k0 / 16) * (size_t)ldb;
        for (int j0 = 0; j0 < N; j0 += NR) {
            float16 acc[NR * MV];
            const global float *br[NR];
#pragma unroll
            for (int c = 0; c < NR; c++) {
                br[c] = bk + (size_t)min(j0 + c, N - 1) * 16;
#pragma unroll
                for (int v = 0; v < MV; v++)
                    acc[c * MV + v] = cs[(j0 + c) * MV + v];
            }
            for (int p = 0; p < kn / 16; p++) {
#ifdef SC_CPU_HINTS
                if (k0 + KC < kend)
#pragma unroll
                    for (int c = 0; c < NR; c++)
                        __builtin_prefetch(br[c] + (KC / 16) * (size_t)ldb);
#endif
                const float16 *ap = at + p * 16 * MV;
#pragma unroll
                for (int e = 0; e < 16; e++)
#pragma unroll
                    for (int c = 0; c < NR; c++) {
                        float16 b = (float16)(br[c][e]);
#pragma unroll
                        for (int v = 0; v < MV; v++)
                            acc[c * MV + v] = fma(b, ap[e * MV + v], acc[c * MV + v]);
                    }
#pragma unroll
                for (int c = 0; c < NR; c++)
                    br[c] += ldb;
            }
#pragma unroll
            for (int c = 0; c < NR; c++)
#pragma unroll
                for (int v = 0; v < MV; v++)
                    cs[(j0 + c) * MV + v] = acc[c * MV + v];
        }
    }
    global float *out = part + (size_t)grp * (size_t)M * (size_t)N;
    const float *sums = (const float *)cs;
    for (int r = 0; r < 16 * MV; r++)
        for (int n = 0; n < N; n++)
            out[(size_t)(m0 + r) * N + n] = sums[(n * MV + r / 16) * 16 + r % 16];
}
#endif
