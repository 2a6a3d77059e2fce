/* Pairwise distances (cl/distance.cl): row-paired for Siamese pairs, the full matrix through
 * one GEMM for triplet mining, and their backwards. */
#include <limits.h>

#include "siamcl/ops_gemm.h"
#include "siamcl/ops_loss.h"

/* Kernel arguments are int element offsets and sizes (OpenCL C has no size_t arguments). */
static int check_fits(const sc_tensor *t, const char *what)
{
    if (!t || !t->buf)
        return sc_fail("distance: %s tensor is missing", what);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("distance: %s tensor ends at element %zu, beyond the int range of the "
                       "kernels", what, t->off + t->n);
    return SC_OK;
}

/* Rows are the leading dimension; the rest is the embedding. */
static int rows_dim(const sc_tensor *t, const char *what, int *rows, int *dim)
{
    SC_TRY(check_fits(t, what));
    *rows = t->shape[0];
    *dim = *rows > 0 ? (int)(t->n / (size_t)*rows) : 0;
    if (*rows <= 0 || *dim <= 0)
        return sc_fail("distance: %s tensor is empty", what);
    return SC_OK;
}

static int same_tensor(const sc_tensor *a, const sc_tensor *b)
{
    return a->buf == b->buf && a->off == b->off && a->n == b->n && a->shape[0] == b->shape[0];
}



int sc_distance_rows_forward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                             sc_tensor *d, int squared)
{
    int rows, dim, rb, db_;
    SC_TRY(rows_dim(a, "a", &rows, &dim));
    SC_TRY(rows_dim(b, "b", &rb, &db_));
    SC_TRY(check_fits(d, "d"));
    if (rb != rows || db_ != dim || d->n != (size_t)rows)
        return sc_fail("distance rows: a is %d x %d, b is %d x %d, d has %zu elements (need "
                       "equal shapes and one distance per row)", rows, dim, rb, db_, d->n);
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_rows_forward");
    if (!k)
        return SC_ERR;
    int ao = (int)a->off, bo = (int)b->off, dof = (int)d->off;
    SC_TRY(sc_kernel_args(k, 9, SC_ARG(a->buf), SC_ARG(ao), SC_ARG(b->buf), SC_ARG(bo),
                          SC_ARG(d->buf), SC_ARG(dof), SC_ARG(rows), SC_ARG(dim),
                          SC_ARG(squared)));
    return sc_launch_1d(ctx, k, (size_t)rows, "distance.rows");
}

int sc_distance_rows_backward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                              const sc_tensor *d, const sc_tensor *g, sc_tensor *da,
                              sc_tensor *db, int squared)
{
    int rows, dim, rb, db_;
    SC_TRY(rows_dim(a, "a", &rows, &dim));
    SC_TRY(rows_dim(b, "b", &rb, &db_));
    SC_TRY(check_fits(d, "d"));
    SC_TRY(check_fits(g, "dL/dd"));
    if (rb != rows || db_ != dim || d->n != (size_t)rows || g->n != (size_t)rows)
        return sc_fail("distance rows backward: a is %d x %d, b is %d x %d, d has %zu and "
                       "dL/dd %zu elements", rows, dim, rb, db_, d->n, g->n);
    if (!da && !db)
        return SC_OK;
    if (da)
        SC_TRY(check_fits(da, "da"));
    if (db)
        SC_TRY(check_fits(db, "db"));
    if ((da && da->n != a->n) || (db && db->n != b->n))
        return sc_fail("distance rows backward: gradient shapes differ from the inputs "
                       "(da %zu, db %zu, inputs %zu elements)", da ? da->n : 0,
                       db ? db->n : 0, a->n);
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_rows_backward");
    if (!k)
        return SC_ERR;
    cl_mem dab = da ? da->buf : NULL, dbb = db ? db->buf : NULL;
    int ao = (int)a->off, bo = (int)b->off, dof = (int)d->off, go = (int)g->off;
    int dao = da ? (int)da->off : 0, dbo = db ? (int)db->off : 0;
    int want_da = da != NULL, want_db = db != NULL;
    SC_TRY(sc_kernel_args(k, 17, SC_ARG(a->buf), SC_ARG(ao), SC_ARG(b->buf), SC_ARG(bo),
                          SC_ARG(d->buf), SC_ARG(dof), SC_ARG(g->buf), SC_ARG(go),
                          SC_ARG(dab), SC_ARG(dao),
                          SC_ARG(dbb), SC_ARG(dbo), SC_ARG(rows), SC_ARG(dim),
                          SC_ARG(squared), SC_ARG(want_da), SC_ARG(want_db)));
    return sc_launch_1d(ctx, k, (size_t)rows * dim, "distance.rows_backward");
}

/* The two halves of a Siamese batch as [B, D] views. */
static int siamese_halves(const sc_tensor *e, const char *what, sc_tensor *a, sc_tensor *b)
{
    int rows, dim;
    SC_TRY(rows_dim(e, what, &rows, &dim));
    if (rows % 2)
        return sc_fail("siamese distance: %s has %d rows; the pair layout needs an even count "
                       "(first images in rows 0..B-1, second images in B..2B-1)", what, rows);
    int shape[2] = {rows / 2, dim};
    *a = sc_tensor_view(e->buf, e->off, 2, shape);
    *b = sc_tensor_view(e->buf, e->off + (size_t)(rows / 2) * dim, 2, shape);
    return SC_OK;
}

int sc_distance_siamese_forward(sc_ctx *ctx, const sc_tensor *e, sc_tensor *d, int squared)
{
    sc_tensor a, b;
    SC_TRY(siamese_halves(e, "e", &a, &b));
    return sc_distance_rows_forward(ctx, &a, &b, d, squared);
}

int sc_distance_siamese_backward(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *d,
                                 const sc_tensor *g, sc_tensor *de, int squared)
{
    sc_tensor a, b, da, db;
    SC_TRY(siamese_halves(e, "e", &a, &b));
    SC_TRY(check_fits(de, "de"));
    if (de->n != e->n)
        return sc_fail("siamese distance backward: de has %zu elements, e has %zu", de->n,
                       e->n);
    int shape[2] = {e->shape[0], (int)(e->n / (size_t)e->shape[0])};
    sc_tensor dev = sc_tensor_view(de->buf, de->off, 2, shape);
    SC_TRY(siamese_halves(&dev, "de", &da, &db));
    return sc_distance_rows_backward(ctx, &a, &b, d, g, &da, &db, squared);
}

size_t sc_distance_matrix_workspace(int m, int n)
{
    if (m <= 0 || n <= 0)
        return 0;
    return (size_t)m * (size_t)n + (size_t)m + (size_t)n;
}

/* Shapes of the matrix form: a [M, D], b [N, D], dist [M, N]. */
static int matrix_shapes(const sc_tensor *a, const sc_tensor *b, const sc_tensor *dist, int *m,
                         int *n, int *dim)
{
    int db_;
    SC_TRY(rows_dim(a, "a", m, dim));
    SC_TRY(rows_dim(b, "b", n, &db_));
    SC_TRY(check_fits(dist, "dist"));
    if (db_ != *dim || dist->n != (size_t)*m * (size_t)*n)
        return sc_fail("distance matrix: a is %d x %d, b is %d x %d, dist has %zu elements "
                       "(need equal row lengths and %d x %d distances)", *m, *dim, *n, db_,
                       dist->n, *m, *n);
    return SC_OK;
}

static int check_ws(const sc_tensor *ws, size_t need, const char *what)
{
    if (!ws || !ws->buf || ws->n < need)
        return sc_fail("%s: workspace of %zu floats is too small (need %zu)", what,
                       ws && ws->buf ? ws->n : 0, need);
    return check_fits(ws, "workspace");
}

static int sq_norms(sc_ctx *ctx, const sc_tensor *x, int rows, int dim, cl_mem out, int out_off)
{
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_sq_norms");
    if (!k)
        return SC_ERR;
    int xo = (int)x->off;
    SC_TRY(sc_kernel_args(k, 6, SC_ARG(x->buf), SC_ARG(xo), SC_ARG(out), SC_ARG(out_off),
                          SC_ARG(rows), SC_ARG(dim)));
    return sc_launch_1d(ctx, k, (size_t)rows, "distance.norms");
}

int sc_distance_matrix_forward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                               sc_tensor *dist, int squared, sc_tensor *ws)
{
    int m, n, dim;
    SC_TRY(matrix_shapes(a, b, dist, &m, &n, &dim));
    SC_TRY(check_ws(ws, (size_t)m + n, "distance matrix"));
    int self = same_tensor(a, b);
    int na = (int)ws->off, nb = self ? na : na + m;
    SC_TRY(sq_norms(ctx, a, m, dim, ws->buf, na));
    if (!self)
        SC_TRY(sq_norms(ctx, b, n, dim, ws->buf, nb));
    SC_TRY(sc_gemm(ctx, 0, 1, m, n, dim, -2.0f, a->buf, a->off, dim, b->buf, b->off, dim, 0.0f,
                   dist->buf, dist->off, n, "distance.gemm"));
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_matrix_finish");
    if (!k)
        return SC_ERR;
    int dof = (int)dist->off;
    SC_TRY(sc_kernel_args(k, 10, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(ws->buf), SC_ARG(na),
                          SC_ARG(ws->buf), SC_ARG(nb), SC_ARG(m), SC_ARG(n), SC_ARG(squared),
                          SC_ARG(self)));
    return sc_launch_2d(ctx, k, n, m, "distance.matrix");
}

int sc_distance_matrix_forward_direct(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                                      sc_tensor *dist, int squared)
{
    int m, n, dim;
    SC_TRY(matrix_shapes(a, b, dist, &m, &n, &dim));
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_matrix_direct");
    if (!k)
        return SC_ERR;
    int ao = (int)a->off, bo = (int)b->off, dof = (int)dist->off;
    SC_TRY(sc_kernel_args(k, 10, SC_ARG(a->buf), SC_ARG(ao), SC_ARG(b->buf), SC_ARG(bo),
                          SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(m), SC_ARG(n), SC_ARG(dim),
                          SC_ARG(squared)));
    return sc_launch_2d(ctx, k, n, m, "distance.matrix_direct");
}

/* out = 2 (s1 + s2) x, row-scaled; the GEMM then adds -2 W y with beta = 1. */
static int diag_term(sc_ctx *ctx, const sc_tensor *x, int rows, int dim, cl_mem s, int s1_off,
                     int s2_off, int use_s2, const sc_tensor *out)
{
    cl_kernel k = sc_kernel(ctx, "distance", NULL, "dist_matrix_diag_term");
    if (!k)
        return SC_ERR;
    int xo = (int)x->off, oo = (int)out->off;
    SC_TRY(sc_kernel_args(k, 11, SC_ARG(x->buf), SC_ARG(xo), SC_ARG(s), SC_ARG(s1_off),
                          SC_ARG(s), SC_ARG(s2_off), SC_ARG(out->buf), SC_ARG(oo), SC_ARG(rows),
                          SC_ARG(dim), SC_ARG(use_s2)));
    return sc_launch_1d(ctx, k, (size_t)rows * dim, "distance.matrix_backward");
}

int sc_distance_matrix_backward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                                const sc_tensor *dist, const sc_tensor *g, sc_tensor *da,
                                sc_tensor *db, int squared, sc_tensor *ws)
{
    int m, n, dim;
    SC_TRY(matrix_shapes(a, b, dist, &m, &n, &dim));
    SC_TRY(check_fits(g, "dL/ddist"));
    if (g->n != dist->n)
        return sc_fail("distance matrix backward: dL/ddist has %zu elements, dist %zu", g->n,
                       dist->n);
    if (!da && !db)
        return SC_OK;
    if (da)
        SC_TRY(check_fits(da, "da"));
    if (db)
        SC_TRY(check_fits(db, "db"));
    if ((da && da->n != a->n) || (db && db->n != b->n))
        return sc_fail("distance matrix backward: da has %zu elements (a %zu), db %zu (b %zu)",
                       da ? da->n : 0, a->n, db ? db->n : 0, b->n);
    int summed = da && db && same_tensor(da, db);
    if (summed && !same_tensor(a, b))
        return sc_fail("distance matrix backward: da and db are the same tensor but a and b "
                       "are not (pass da == db only for the distances of a set to itself)");
    SC_TRY(check_ws(ws, sc_distance_matrix_workspace(m, n), "distance matrix backward"));

    int w = (int)ws->off, rs = w + m * n, cs = rs + m;
    cl_kernel kw = sc_kernel(ctx, "distance", NULL, "dist_matrix_weights");
    cl_kernel ks = sc_kernel(ctx, "distance", NULL, "dist_matrix_wsums");
    if (!kw || !ks)
        return SC_ERR;
    int dof = (int)dist->off, go = (int)g->off;
    SC_TRY(sc_kernel_args(kw, 9, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(g->buf), SC_ARG(go),
                          SC_ARG(ws->buf), SC_ARG(w), SC_ARG(m), SC_ARG(n), SC_ARG(squared)));
    SC_TRY(sc_launch_2d(ctx, kw, n, m, "distance.matrix_backward"));
    SC_TRY(sc_kernel_args(ks, 8, SC_ARG(ws->buf), SC_ARG(w), SC_ARG(ws->buf), SC_ARG(rs),
                          SC_ARG(ws->buf), SC_ARG(cs), SC_ARG(m), SC_ARG(n)));
    SC_TRY(sc_launch_1d(ctx, ks, (size_t)m + n, "distance.matrix_backward"));

    /* da = 2 diag(rs) a - 2 W b;  db = 2 diag(cs) b - 2 W^T a;  summed: both into da. */
    if (da) {
        SC_TRY(diag_term(ctx, a, m, dim, ws->buf, rs, cs, summed, da));
        SC_TRY(sc_gemm(ctx, 0, 0, m, dim, n, -2.0f, ws->buf, (size_t)w, n, b->buf, b->off, dim,
                       1.0f, da->buf, da->off, dim, "distance.gemm"));
    }
    if (db && !summed)
        SC_TRY(diag_term(ctx, b, n, dim, ws->buf, cs, cs, 0, db));
    if (db)
        SC_TRY(sc_gemm(ctx, 1, 0, n, dim, m, -2.0f, ws->buf, (size_t)w, n, a->buf, a->off, dim,
                       1.0f, db->buf, db->off, dim, "distance.gemm"));
    return SC_OK;
}
