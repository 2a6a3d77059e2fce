/* Accuracy at a threshold, the accuracy-maximising threshold, and the 10-fold protocol. */
#include "siamcl/eval.h"

#include <math.h>
#include <stdlib.h>

#include "eval/sort.h"

int sc_accuracy_at(const double *dist, const int *label, size_t n, double threshold,
                   double *accuracy)
{
    SC_TRY(sc_eval_check(dist, label, n, NULL, NULL));
    if (n == 0)
        return sc_fail("accuracy: no pairs");
    size_t right = 0;
    for (size_t i = 0; i < n; i++)
        right += (dist[i] <= threshold) == (label[i] == 0);
    *accuracy = (double)right / (double)n;
    return SC_OK;
}

int sc_best_threshold(const double *dist, const int *label, size_t n, double *threshold,
                      double *accuracy)
{
    sc_roc roc;
    SC_TRY(sc_roc_compute(dist, label, n, &roc));
    /* Correct = accepted same + rejected different, at every ROC point (every distinct
     * threshold); strict '>' keeps the first, i.e. smallest, of equally good points. */
    size_t best = 0, best_right = 0;
    for (size_t i = 0; i < roc.n; i++) {
        size_t right = roc.pt[i].same + (roc.n_diff - roc.pt[i].diff);
        if (i == 0 || right > best_right) {
            best = i;
            best_right = right;
        }
    }
    if (best == 0 || best + 1 == roc.n)
        *threshold = roc.pt[best].threshold;
    else
        *threshold = 0.5 * (roc.pt[best].threshold + roc.pt[best + 1].threshold);
    if (accuracy)
        *accuracy = (double)best_right / (double)n;
    sc_roc_free(&roc);
    return SC_OK;
}

int sc_verif_evaluate(const double *dist, const int *label, size_t n, double threshold,
                      const double *far, int n_far, sc_verif_metrics *m)
{
    if (n_far < 0 || n_far > SC_EVAL_MAX_FAR || (n_far > 0 && !far))
        return sc_fail("metrics: %d FAR targets (at most %d)", n_far, SC_EVAL_MAX_FAR);
    for (int i = 0; i < n_far; i++)
        if (!(far[i] > 0.0 && far[i] < 1.0))
            return sc_fail("metrics: FAR target %g outside (0, 1)", far[i]);
    sc_roc roc;
    SC_TRY(sc_roc_compute(dist, label, n, &roc));
    *m = (sc_verif_metrics){0};
    m->n = n;
    m->n_same = roc.n_same;
    m->n_diff = roc.n_diff;
    m->auc = sc_roc_auc(&roc);
    int rc = sc_roc_eer(&roc, &m->eer, &m->eer_threshold);
    m->n_far = n_far;
    for (int i = 0; rc == SC_OK && i < n_far; i++) {
        m->far[i] = far[i];
        rc = sc_roc_tar_at_far(&roc, far[i], &m->tar[i], &m->far_threshold[i]);
    }
    sc_roc_free(&roc);
    SC_TRY(rc);
    m->threshold = threshold;
    m->accuracy = NAN;
    if (!isnan(threshold))
        SC_TRY(sc_accuracy_at(dist, label, n, threshold, &m->accuracy));
    return SC_OK;
}

/* Sample standard deviation (n - 1) divided by sqrt(n): LFW's "estimated standard error of
 * the mean" for the 10-fold protocol. */
static void mean_se(const double *x, int n, double *mean, double *se)
{
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *se = sqrt(ss / (n - 1)) / sqrt((double)n);
}

int sc_folds_evaluate(const double *dist, const int *label, const int *fold, size_t n,
                      int nfolds, sc_folds_result *out)
{
    if (nfolds < 2 || nfolds > SC_EVAL_MAX_FOLDS)
        return sc_fail("folds: %d folds (expected 2 .. %d)", nfolds, SC_EVAL_MAX_FOLDS);
    SC_TRY(sc_eval_check(dist, label, n, NULL, NULL));
    size_t count[SC_EVAL_MAX_FOLDS][2] = {{0}};
    for (size_t i = 0; i < n; i++) {
        if (!fold || fold[i] < 0 || fold[i] >= nfolds)
            return sc_fail("folds: pair %zu has fold %d (expected 0 .. %d)", i,
                           fold ? fold[i] : -1, nfolds - 1);
        count[fold[i]][label[i]]++;
    }
    for (int f = 0; f < nfolds; f++)
        if (count[f][0] == 0 || count[f][1] == 0)
            return sc_fail("folds: fold %d has %zu same and %zu different pairs (needs both)",
                           f + 1, count[f][0], count[f][1]);

    double *d = malloc(2 * n * sizeof *d);
    int *y = malloc(2 * n * sizeof *y);
    if (!d || !y) {
        free(d);
        free(y);
        return sc_fail("folds: out of memory");
    }
    /* train part at the front, test part at the back of the same buffers */
    double *dt = d + n;
    int *yt = y + n;
    int rc = SC_OK;
    *out = (sc_folds_result){.nfolds = nfolds};
    for (int f = 0; rc == SC_OK && f < nfolds; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f) {
                dt[nte] = dist[i];
                yt[nte++] = label[i];
            } else {
                d[ntr] = dist[i];
                y[ntr++] = label[i];
            }
        }
        rc = sc_best_threshold(d, y, ntr, &out->threshold[f], NULL);
        if (rc == SC_OK)
            rc = sc_accuracy_at(dt, yt, nte, out->threshold[f], &out->accuracy[f]);
        if (rc == SC_OK)
            rc = sc_auc(dt, yt, nte, &out->auc[f]);
    }
    free(d);
    free(y);
    if (rc != SC_OK)
        return sc_fail_context("folds");
    mean_se(out->accuracy, nfolds, &out->mean_accuracy, &out->se_accuracy);
    mean_se(out->auc, nfolds, &out->mean_auc, &out->se_auc);
    return SC_OK;
}

size_t sc_worst_pairs(const double *dist, const int *label, size_t n, size_t per_kind,
                      size_t *idx)
{
    size_t *ord = sc_eval_order(dist, n);
    if (!ord)
        return 0;
    size_t k = 0, taken = 0;
    for (size_t i = 0; i < n && taken < per_kind; i++)
        if (label[ord[i]] == 1) {
            idx[k++] = ord[i];
            taken++;
        }
    taken = 0;
    for (size_t i = n; i-- > 0 && taken < per_kind;)
        if (label[ord[i]] == 0) {
            idx[k++] = ord[i];
            taken++;
        }
    free(ord);
    return k;
}
