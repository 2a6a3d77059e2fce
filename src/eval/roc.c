/* ROC curve, AUC, EER and TAR at FAR. */
#include "siamcl/eval.h"

#include <math.h>
#include <stdlib.h>

#include "eval/sort.h"

static int need_both(size_t n_same, size_t n_diff, const char *what)
{
    if (n_same == 0 || n_diff == 0)
        return sc_fail("%s needs same-person and different-person pairs (got %zu same, %zu "
                       "different)", what, n_same, n_diff);
    return SC_OK;
}

int sc_roc_compute(const double *dist, const int *label, size_t n, sc_roc *roc)
{
    size_t n_same, n_diff;
    roc->pt = NULL;
    roc->n = 0;
    SC_TRY(sc_eval_check(dist, label, n, &n_same, &n_diff));
    SC_TRY(need_both(n_same, n_diff, "ROC"));
    size_t *ord = sc_eval_order(dist, n);
    if (!ord)
        return SC_ERR;
    sc_roc_point *pt = malloc((n + 1) * sizeof *pt);
    if (!pt) {
        free(ord);
        return sc_fail("ROC: out of memory for %zu points", n + 1);
    }
    pt[0] = (sc_roc_point){nextafter(dist[ord[0]], -INFINITY), 0.0, 0.0, 0, 0};
    size_t np = 1, same = 0, diff = 0;
    for (size_t i = 0; i < n;) {
        double d = dist[ord[i]];
        /* a tie is accepted as a whole: one point per distinct distance */
        for (; i < n && dist[ord[i]] == d; i++) {
            if (label[ord[i]] == 0)
                same++;
            else
                diff++;
        }
        pt[np++] = (sc_roc_point){d, (double)diff / (double)n_diff,
                                  (double)same / (double)n_same, same, diff};
    }
    free(ord);
    roc->pt = pt;
    roc->n = np;
    roc->n_same = n_same;
    roc->n_diff = n_diff;
    return SC_OK;
}

void sc_roc_free(sc_roc *roc)
{
    free(roc->pt);
    roc->pt = NULL;
    roc->n = 0;
}

double sc_roc_auc(const sc_roc *roc)
{
    /* In counts, exactly: sum of trapezoids (dx * (y0 + y1) / 2) scaled by n_diff * n_same. */
    double twice = 0.0;
    for (size_t i = 1; i < roc->n; i++) {
        const sc_roc_point *a = &roc->pt[i - 1], *b = &roc->pt[i];
        twice += (double)(b->diff - a->diff) * (double)(a->same + b->same);
    }
    return twice / (2.0 * (double)roc->n_diff * (double)roc->n_same);
}

int sc_auc(const double *dist, const int *label, size_t n, double *auc)
{
    size_t n_same, n_diff;
    SC_TRY(sc_eval_check(dist, label, n, &n_same, &n_diff));
    SC_TRY(need_both(n_same, n_diff, "AUC"));
    size_t *ord = sc_eval_order(dist, n);
    if (!ord)
        return SC_ERR;
    /* Mann-Whitney: rank sum of the different-person pairs, ties sharing their mean rank. */
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && dist[ord[j]] == dist[ord[i]])
            j++;
        double midrank = 0.5 * (double)(i + 1 + j); /* ranks i+1 .. j */
        for (size_t t = i; t < j; t++)
            if (label[ord[t]] == 1)
                rank_sum += midrank;
        i = j;
    }
    free(ord);
    double u = rank_sum - 0.5 * (double)n_diff * (double)(n_diff + 1);
    *auc = u / ((double)n_diff * (double)n_same);
    return SC_OK;
}

int sc_roc_eer(const sc_roc *roc, double *eer, double *threshold)
{
    if (!roc || roc->n < 2)
        return sc_fail("EER: empty ROC");
    /* g = FAR - FRR = FAR + TAR - 1 rises from -1 at (0, 0) to +1 at (1, 1). */
    for (size_t i = 1; i < roc->n; i++) {
        const sc_roc_point *a = &roc->pt[i - 1], *b = &roc->pt[i];
        double ga = a->far + a->tar - 1.0, gb = b->far + b->tar - 1.0;
        if (gb < 0.0)
            continue;
        double t = (gb > ga) ? -ga / (gb - ga) : 1.0;
        *eer = a->far + t * (b->far - a->far);
        if (threshold)
            *threshold = a->threshold + t * (b->threshold - a->threshold);
        return SC_OK;
    }
    return sc_fail("EER: ROC does not reach (1, 1)");
}

int sc_roc_tar_at_far(const sc_roc *roc, double far_target, double *tar, double *threshold)
{
    if (!roc || roc->n < 1)
        return sc_fail("TAR@FAR: empty ROC");
    if (!(far_target >= 0.0 && far_target <= 1.0))
        return sc_fail("TAR@FAR: target FAR %g outside [0, 1]", far_target);
    /* FAR and TAR never decrease along the curve: the last point within the target wins.
     * pt.far = diff / n_diff is correctly rounded, so a decimal target such as 0.29 with 29
     * of 100 pairs compares equal (a product far_target * n_diff might land below 29). */
    size_t i = 0;
    while (i + 1 < roc->n && roc->pt[i + 1].far <= far_target)
        i++;
    *tar = roc->pt[i].tar;
    if (threshold)
        *threshold = roc->pt[i].threshold;
    return SC_OK;
}
