#include "eval/sort.h"

#include <math.h>
#include <stdlib.h>

#include "siamcl/error.h"

int sc_eval_check(const double *dist, const int *label, size_t n, size_t *n_same,
                  size_t *n_diff)
{
    size_t same = 0, diff = 0;
    if (n > 0 && (!dist || !label))
        return sc_fail("metrics: NULL distances or labels");
    for (size_t i = 0; i < n; i++) {
        if (label[i] != 0 && label[i] != 1)
            return sc_fail("metrics: pair %zu has label %d (expected 0 = same, 1 = different)",
                           i, label[i]);
        if (!isfinite(dist[i]))
            return sc_fail("metrics: pair %zu has distance %g (not finite)", i, dist[i]);
        if (label[i] == 0)
            same++;
        else
            diff++;
    }
    if (n_same)
        *n_same = same;
    if (n_diff)
        *n_diff = diff;
    return SC_OK;
}

/* qsort has no user pointer in C11: sort (distance, index) records instead of indices. */
typedef struct keyed {
    double d;
    size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

size_t *sc_eval_order(const double *dist, size_t n)
{
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!k || !idx) {
        free(k);
        free(idx);
        sc_fail("metrics: out of memory sorting %zu distances", n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){dist[i], i};
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < n; i++)
        idx[i] = k[i].i;
    free(k);
    return idx;
}
