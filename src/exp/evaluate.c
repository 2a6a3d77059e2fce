/* Evaluation: embed every needed image once, a distance per pair, the metrics, and the run
 * folder's evaluation files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "siamcl/plot.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int row_of(const int *ids, int n, int id)
{
    const int *p = bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_int);
    return p ? (int)(p - ids) : -1;
}

int sc_pair_distances(const sc_pairs *pairs, const int *ids, int n_ids, const float *emb, int dim,
                      double *dist, int *label)
{
    for (int i = 0; i < pairs->n; i++) {
        int a = row_of(ids, n_ids, pairs->p[i].a), b = row_of(ids, n_ids, pairs->p[i].b);
        if (a < 0 || b < 0)
            return sc_fail("pair %d: image not embedded", i + 1);
        double s = 0;
        for (int k = 0; k < dim; k++) {
            double d = (double)emb[(size_t)a * dim + k] - emb[(size_t)b * dim + k];
            s += d * d;
        }
        dist[i] = sqrt(s);
        label[i] = pairs->p[i].y;
    }
    return SC_OK;
}

/* Sorted distinct image ids of two pair lists. */
static int union_ids(const sc_pairs *a, const sc_pairs *b, int **ids, int *n)
{
    int *x, *y, nx, ny;
    SC_TRY(sc_pairs_images(a, &x, &nx));
    if (sc_pairs_images(b, &y, &ny) != SC_OK) {
        free(x);
        return SC_ERR;
    }
    int *u = malloc(sizeof *u * (size_t)(nx + ny + 1));
    if (!u) {
        free(x), free(y);
        return sc_fail("out of host memory");
    }
    memcpy(u, x, sizeof *u * (size_t)nx);
    memcpy(u + nx, y, sizeof *u * (size_t)ny);
    qsort(u, (size_t)(nx + ny), sizeof *u, cmp_int);
    int m = 0;
    for (int i = 0; i < nx + ny; i++)
        if (m == 0 || u[m - 1] != u[i])
            u[m++] = u[i];
    free(x), free(y);
    *ids = u;
    *n = m;
    return SC_OK;
}

/* The images of one pair, downloaded from the dataset on the device. */
static int pair_images(sc_run *r, const sc_pair *p, unsigned char *a, unsigned char *b)
{
    const sc_dataset *ds = &r->ds;
    int sa = sc_dataset_slot(ds, p->a), sb = sc_dataset_slot(ds, p->b);
    if (sa < 0 || sb < 0)
        return sc_fail("errors.png: image not in the dataset");
    SC_CL(clEnqueueReadBuffer(r->ctx->queue, ds->images, CL_TRUE, (size_t)sa * ds->image_bytes,
                              ds->image_bytes, a, 0, NULL, NULL));
    SC_CL(clEnqueueReadBuffer(r->ctx->queue, ds->images, CL_TRUE, (size_t)sb * ds->image_bytes,
                              ds->image_bytes, b, 0, NULL, NULL));
    return SC_OK;
}

static int write_errors_png(sc_run *r, const sc_pairs *test, const double *dist, const int *label,
                            double threshold)
{
    size_t per = (size_t)r->cfg->eval.errors, n = 0;
    if (per == 0)
        return SC_OK;
    size_t *idx = malloc(sizeof *idx * 2 * per);
    sc_plot_pair *pp = calloc(2 * per, sizeof *pp);
    unsigned char *px = malloc(r->ds.image_bytes * 4 * per);
    int rc = (!idx || !pp || !px) ? sc_fail("out of host memory") : SC_OK;
    if (rc == SC_OK)
        n = sc_worst_pairs(dist, label, (size_t)test->n, per, idx);
    for (size_t i = 0; i < n && rc == SC_OK; i++) {
        unsigned char *a = px + 2 * i * r->ds.image_bytes, *b = a + r->ds.image_bytes;
        rc = pair_images(r, &test->p[idx[i]], a, b);
        pp[i] = (sc_plot_pair){a, b, r->ds.size, r->ds.size, dist[idx[i]], label[idx[i]],
                               (long)idx[i]};
    }
    char path[1200];
    sc_run_path(r, "errors.png", path, sizeof path);
    if (rc == SC_OK)
        rc = sc_plot_errors(path, pp, n, threshold);
    free(idx), free(pp), free(px);
    return rc;
}

int sc_eval_view1(sc_run *r, sc_trainer *t, const sc_pairs *train, const sc_pairs *test, int files,
                  sc_v1_result *res)
{
    memset(res, 0, sizeof *res);
    int *ids = NULL, n = 0, dim = 0;
    float *emb = NULL;
    double *dtr = malloc(sizeof *dtr * (size_t)train->n), *dte = malloc(sizeof *dte * (size_t)test->n);
    int *ltr = malloc(sizeof *ltr * (size_t)train->n), *lte = malloc(sizeof *lte * (size_t)test->n);
    sc_roc roc = {0}, roc_tr = {0};
    int rc = SC_ERR;
    if (!dtr || !dte || !ltr || !lte) {
        sc_fail("out of host memory");
        goto out;
    }
    if (union_ids(train, test, &ids, &n) != SC_OK || sc_trainer_embed(t, ids, n, &emb, &dim) != SC_OK ||
        sc_pair_distances(train, ids, n, emb, dim, dtr, ltr) != SC_OK ||
        sc_pair_distances(test, ids, n, emb, dim, dte, lte) != SC_OK)
        goto out;
    for (int i = 0; i < test->n; i++)
        if (!isfinite(dte[i])) {
            sc_fail("test distance %d is not finite: the model diverged", i + 1);
            goto out;
        }
    double thr;
    const sc_eval_cfg *e = &r->cfg->eval;
    if (sc_best_threshold(dtr, ltr, (size_t)train->n, &thr, &res->train_accuracy) != SC_OK ||
        sc_verif_evaluate(dte, lte, (size_t)test->n, thr, e->far, e->n_far, &res->m) != SC_OK ||
        sc_roc_compute(dtr, ltr, (size_t)train->n, &roc_tr) != SC_OK ||
        sc_roc_eer(&roc_tr, &(double){0}, &res->thr_eer) != SC_OK ||
        sc_roc_tar_at_far(&roc_tr, 0.01, &(double){0}, &res->thr_far2) != SC_OK ||
        sc_roc_tar_at_far(&roc_tr, 0.001, &(double){0}, &res->thr_far3) != SC_OK)
        goto out;
    if (files) {
        char p1[1200], p2[1200], p3[1200];
        sc_run_path(r, "roc.csv", p1, sizeof p1);
        sc_run_path(r, "scores.csv", p2, sizeof p2);
        sc_run_path(r, "roc.png", p3, sizeof p3);
        if (sc_roc_compute(dte, lte, (size_t)test->n, &roc) != SC_OK ||
            sc_roc_write_csv(&roc, p1) != SC_OK ||
            sc_scores_write_csv(dte, lte, NULL, (size_t)test->n, p2) != SC_OK ||
            sc_plot_roc(p3, &roc, res->m.auc, r->cfg->experiment.name, r->cfg->eval.log_far) != SC_OK ||
            write_errors_png(r, test, dte, lte, thr) != SC_OK)
            goto out;
    }
    rc = SC_OK;
out:
    sc_roc_free(&roc);
    sc_roc_free(&roc_tr);
    free(ids), free(emb), free(dtr), free(dte), free(ltr), free(lte);
    return rc == SC_OK ? SC_OK : sc_fail_context("evaluation");
}
