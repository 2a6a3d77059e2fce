/* The gallery matrix on the device and batched k-nearest search: per block of queries and
 * block of gallery rows one GEMM (-2 q.g) and one top-k scan that adds the squared norms,
 * then one merge per query block. The same code serves ten rows or millions: the GEMM block
 * is bounded by block_floats, so memory does not grow with queries x gallery. A single query
 * skips the GEMM (a matrix-vector product that would only stream the gallery through the
 * GEMM's tiles): the scan computes its distances itself, reading the gallery once. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/gallery.h"
#include "siamcl/ops_gemm.h"
#include "siamcl/ops_topk.h"

int sc_index_init(sc_index *ix, sc_ctx *ctx, int dim)
{
    memset(ix, 0, sizeof *ix);
    if (dim < 1)
        return sc_fail("index: embedding dimension %d", dim);
    ix->ctx = ctx;
    ix->dim = dim;
    ix->block_floats = (size_t)8 << 20;
    ix->query_block = 256;
    return SC_OK;
}

static void release(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

void sc_index_free(sc_index *ix)
{
    if (!ix)
        return;
    release(&ix->emb), release(&ix->norms), release(&ix->q), release(&ix->qn);
    release(&ix->s), release(&ix->lists), release(&ix->ws), release(&ix->res);
    free(ix->res_host);
    memset(ix, 0, sizeof *ix);
}

/* Grows a scratch buffer to at least `floats` (contents not kept). */
static int reserve(sc_index *ix, cl_mem *m, size_t *cap, size_t floats, const char *what)
{
    if (floats <= *cap && *m)
        return SC_OK;
    release(m);
    *cap = 0;
    SC_TRY(sc_buffer_alloc(ix->ctx, m, sizeof(float) * (floats ? floats : 1), what));
    *cap = floats;
    return SC_OK;
}

static float sq_norm(const float *x, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++)
        s += (double)x[i] * x[i];
    return (float)s;
}

int sc_index_add(sc_index *ix, const float *emb, int n)
{
    if (n <= 0)
        return n == 0 ? SC_OK : sc_fail("index: adding %d rows", n);
    int D = ix->dim;
    for (size_t i = 0; i < (size_t)n * D; i++)
        if (!isfinite(emb[i]))
            return sc_fail("index: row %zu has a non-finite value (a broken embedding)", i / D);
    if ((long long)(ix->n + (long long)n) * D > INT_MAX)
        return sc_fail("index: %lld rows of %d exceed the 2^31 elements one device buffer is "
                       "addressed with", (long long)ix->n + n, D);
    sc_ctx *ctx = ix->ctx;
    if (ix->n + n > ix->cap) {
        long long want = ix->cap ? 2LL * ix->cap : 1024;
        if (want < ix->n + n)
            want = ix->n + n;
        if (want * D > INT_MAX)
            want = INT_MAX / D;
        cl_mem e2 = NULL, n2 = NULL;
        SC_TRY(sc_buffer_alloc(ctx, &e2, sizeof(float) * (size_t)want * D, "the gallery matrix"));
        if (sc_buffer_alloc(ctx, &n2, sizeof(float) * (size_t)want, "the gallery norms") !=
            SC_OK) {
            clReleaseMemObject(e2);
            return SC_ERR;
        }
        cl_int err = CL_SUCCESS;
        if (ix->n) {
            err = clEnqueueCopyBuffer(ctx->queue, ix->emb, e2, 0, 0,
                                      sizeof(float) * (size_t)ix->n * D, 0, NULL, NULL);
            if (err == CL_SUCCESS)
                err = clEnqueueCopyBuffer(ctx->queue, ix->norms, n2, 0, 0,
                                          sizeof(float) * (size_t)ix->n, 0, NULL, NULL);
        }
        if (err != CL_SUCCESS) {
            clReleaseMemObject(e2), clReleaseMemObject(n2);
            return sc_cl_fail(err, "clEnqueueCopyBuffer(gallery growth)", __FILE__, __LINE__);
        }
        release(&ix->emb), release(&ix->norms);
        ix->emb = e2, ix->norms = n2, ix->cap = (int)want;
    }
    float *norms = malloc(sizeof *norms * (size_t)n);
    if (!norms)
        return sc_fail("out of host memory");
    for (int i = 0; i < n; i++)
        norms[i] = sq_norm(emb + (size_t)i * D, D);
    cl_int err = clEnqueueWriteBuffer(ctx->queue, ix->emb, CL_TRUE,
                                      sizeof(float) * (size_t)ix->n * D,
                                      sizeof(float) * (size_t)n * D, emb, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(ctx->queue, ix->norms, CL_TRUE, sizeof(float) * (size_t)ix->n,
                                   sizeof(float) * (size_t)n, norms, 0, NULL, NULL);
    free(norms);
    if (err != CL_SUCCESS)
        return sc_cl_fail(err, "clEnqueueWriteBuffer(gallery rows)", __FILE__, __LINE__);
    ix->n += n;
    return SC_OK;
}

/* Reads the merged lists back: squared distances -> Euclidean. */
static int read_results(sc_index *ix, int qb, int k, int *idx, float *dist)
{
    SC_CL(clEnqueueReadBuffer(ix->ctx->queue, ix->res, CL_TRUE, 0, sizeof(float) * 2 * qb * k,
                              ix->res_host, 0, NULL, NULL));
    const float *v = ix->res_host;
    const int *ri = (const int *)(ix->res_host + (size_t)qb * k);
    for (size_t j = 0; j < (size_t)qb * k; j++) {
        idx[j] = ri[j];
        dist[j] = ri[j] < 0 ? INFINITY : sqrtf(v[j]);
    }
    return SC_OK;
}

/* One query: distances computed inside the scan (no GEMM), one launch over the gallery. */
static int search_one(sc_index *ix, float qn, int k, int *idx, float *dist)
{
    sc_ctx *ctx = ix->ctx;
    int D = ix->dim, n = ix->n;
    int stride = sc_topk_stride(ctx, 1, n, k);
    size_t nl = (size_t)stride * k;
    SC_TRY(reserve(ix, &ix->lists, &ix->l_cap, 2 * nl, "the search candidates"));
    SC_TRY(reserve(ix, &ix->ws, &ix->w_cap, sc_topk_merge_workspace(1, stride, k),
                   "the search merge workspace"));
    SC_TRY(reserve(ix, &ix->res, &ix->r_cap, 2 * (size_t)k, "the search results"));
    sc_topk_lists cand = {ix->lists, 0, ix->lists, nl, 1, stride, k};
    sc_tensor g = sc_tensor_view(ix->emb, 0, 2, (int[]){n, D});
    sc_tensor gn = sc_tensor_view(ix->norms, 0, 1, (int[]){n});
    sc_tensor q = sc_tensor_view(ix->q, 0, 1, (int[]){D});
    SC_TRY(sc_topk_scan_query(ctx, &g, &gn, &q, qn, stride, 0, &cand, 0));
    sc_topk_lists out = {ix->res, 0, ix->res, (size_t)k, 1, 1, k};
    sc_tensor ws = sc_tensor_view(ix->ws, 0, 1, (int[]){1});
    ws.n = ix->w_cap;
    SC_TRY(sc_topk_merge(ctx, &cand, &out, &ws));
    return read_results(ix, 1, k, idx, dist);
}

/* One block of qb queries (already uploaded with their norms) against the whole gallery. */
static int search_block(sc_index *ix, int qb, int k, int *idx, float *dist)
{
    sc_ctx *ctx = ix->ctx;
    int D = ix->dim, n = ix->n;
    size_t per = ix->block_floats / (size_t)qb;
    int nc = per < 1 ? 1 : per > (size_t)n ? n : (int)per;
    int chunks = (n + nc - 1) / nc;
    int stride = sc_topk_stride(ctx, qb, nc, k);
    int slots = chunks * stride;
    size_t nl = (size_t)qb * slots * k;
    SC_TRY(reserve(ix, &ix->s, &ix->s_cap, (size_t)qb * nc, "the search dot products"));
    SC_TRY(reserve(ix, &ix->lists, &ix->l_cap, 2 * nl, "the search candidates"));
    SC_TRY(reserve(ix, &ix->ws, &ix->w_cap, sc_topk_merge_workspace(qb, slots, k),
                   "the search merge workspace"));
    SC_TRY(reserve(ix, &ix->res, &ix->r_cap, 2 * (size_t)qb * k, "the search results"));
    sc_topk_lists cand = {ix->lists, 0, ix->lists, nl, qb, slots, k};
    sc_tensor rn = sc_tensor_view(ix->qn, 0, 1, (int[]){qb});
    for (int c = 0; c < chunks; c++) {
        int c0 = c * nc, w = n - c0 < nc ? n - c0 : nc;
        SC_TRY(sc_gemm(ctx, 0, 1, qb, w, D, -2.0f, ix->q, 0, D, ix->emb, (size_t)c0 * D, D, 0.0f,
                       ix->s, 0, w, "gallery.gemm"));
        sc_tensor x = sc_tensor_view(ix->s, 0, 2, (int[]){qb, w});
        sc_tensor cn = sc_tensor_view(ix->norms, (size_t)c0, 1, (int[]){w});
        SC_TRY(sc_topk_scan(ctx, &x, &rn, &cn, stride, c0, &cand, c * stride));
    }
    sc_topk_lists out = {ix->res, 0, ix->res, (size_t)qb * k, qb, 1, k};
    sc_tensor ws = sc_tensor_view(ix->ws, 0, 1, (int[]){1});
    ws.n = ix->w_cap;
    SC_TRY(sc_topk_merge(ctx, &cand, &out, &ws));
    return read_results(ix, qb, k, idx, dist);
}

int sc_index_search(sc_index *ix, const float *q, int nq, int k, int *idx, float *dist)
{
    if (k < 1 || k > SC_TOPK_MAX_K)
        return sc_fail("search: k = %d outside 1..%d", k, SC_TOPK_MAX_K);
    if (nq < 0)
        return sc_fail("search: %d queries", nq);
    if (ix->n == 0) { /* an empty gallery knows nobody */
        for (size_t j = 0; j < (size_t)nq * k; j++)
            idx[j] = -1, dist[j] = INFINITY;
        return SC_OK;
    }
    int D = ix->dim, QB = ix->query_block > 0 ? ix->query_block : 256;
    if (QB > nq)
        QB = nq;
    if ((size_t)QB * k * 2 > ((size_t)1 << 28))
        return sc_fail("search: %d queries x k = %d in one block is too large", QB, k);
    SC_TRY(reserve(ix, &ix->q, &ix->q_cap, (size_t)QB * D, "the search queries"));
    SC_TRY(reserve(ix, &ix->qn, &ix->qn_cap, (size_t)QB, "the query norms"));
    float *res = realloc(ix->res_host, sizeof(float) * 2 * (size_t)QB * k);
    float *qn = malloc(sizeof *qn * (size_t)QB);
    if (!res || !qn) {
        if (res)
            ix->res_host = res;
        free(qn);
        return sc_fail("out of host memory");
    }
    ix->res_host = res;
    int rc = SC_OK;
    for (int q0 = 0; q0 < nq && rc == SC_OK; q0 += QB) {
        int qb = nq - q0 < QB ? nq - q0 : QB;
        const float *qp = q + (size_t)q0 * D;
        for (int i = 0; i < qb && rc == SC_OK; i++) {
            for (int d = 0; d < D; d++)
                if (!isfinite(qp[(size_t)i * D + d]))
                    rc = sc_fail("search: query %d has a non-finite value", q0 + i);
            qn[i] = sq_norm(qp + (size_t)i * D, D);
        }
        if (rc != SC_OK)
            break;
        cl_int err = clEnqueueWriteBuffer(ix->ctx->queue, ix->q, CL_TRUE, 0,
                                          sizeof(float) * (size_t)qb * D, qp, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueWriteBuffer(ix->ctx->queue, ix->qn, CL_TRUE, 0,
                                       sizeof(float) * (size_t)qb, qn, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            rc = sc_cl_fail(err, "clEnqueueWriteBuffer(queries)", __FILE__, __LINE__);
        else if (qb == 1 && !ix->single_gemm)
            rc = search_one(ix, qn[0], k, idx + (size_t)q0 * k, dist + (size_t)q0 * k);
        else
            rc = search_block(ix, qb, k, idx + (size_t)q0 * k, dist + (size_t)q0 * k);
    }
    free(qn);
    return rc;
}

/* ---- plain C ---------------------------------------------------------------------------- */

void sc_knn_host(const float *gallery, int n, int dim, const float *q, int nq, int k, int *idx,
                 float *dist)
{
    for (int i = 0; i < nq; i++) {
        const float *a = q + (size_t)i * dim;
        float *bv = dist + (size_t)i * k;
        int *bi = idx + (size_t)i * k, cnt = 0;
        for (int r = 0; r < n; r++) {
            const float *b = gallery + (size_t)r * dim;
            /* eight partial sums: lets the compiler vectorise without reassociation flags */
            float s8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int d = 0;
            for (; d + 8 <= dim; d += 8)
                for (int l = 0; l < 8; l++) {
                    float t = a[d + l] - b[d + l];
                    s8[l] += t * t;
                }
            float s = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
            for (; d < dim; d++) {
                float t = a[d] - b[d];
                s += t * t;
            }
            int pos;
            if (cnt < k)
                pos = cnt++;
            else if (s < bv[k - 1])
                pos = k - 1;
            else
                continue;
            while (pos > 0 && s < bv[pos - 1]) { /* rows arrive in order: ties stay behind */
                bv[pos] = bv[pos - 1];
                bi[pos] = bi[pos - 1];
                pos--;
            }
            bv[pos] = s;
            bi[pos] = r;
        }
        for (int j = 0; j < k; j++) {
            if (j < cnt) {
                bv[j] = sqrtf(bv[j]);
            } else {
                bv[j] = INFINITY;
                bi[j] = -1;
            }
        }
    }
}
