/* roc.csv and scores.csv. %.17g keeps every double exact for whoever re-analyses them. */
#include "siamcl/eval.h"

#include <limits.h>
#include <stdio.h>

#include "siamcl/util.h"
#include "eval/sort.h"

int sc_roc_write_csv(const sc_roc *roc, const char *path)
{
    char tmp[PATH_MAX];
    FILE *f;
    SC_TRY(sc_atomic_open(path, tmp, sizeof tmp, &f));
    fprintf(f, "threshold,far,tar\n");
    for (size_t i = 0; i < roc->n; i++)
        fprintf(f, "%.17g,%.17g,%.17g\n", roc->pt[i].threshold, roc->pt[i].far, roc->pt[i].tar);
    return sc_atomic_commit(f, tmp, path);
}

int sc_scores_write_csv(const double *dist, const int *label, const int *fold, size_t n,
                        const char *path)
{
    SC_TRY(sc_eval_check(dist, label, n, NULL, NULL));
    char tmp[PATH_MAX];
    FILE *f;
    SC_TRY(sc_atomic_open(path, tmp, sizeof tmp, &f));
    fprintf(f, fold ? "pair,fold,label,distance\n" : "pair,label,distance\n");
    for (size_t i = 0; i < n; i++) {
        if (fold)
            fprintf(f, "%zu,%d,%d,%.17g\n", i, fold[i] + 1, label[i], dist[i]);
        else
            fprintf(f, "%zu,%d,%.17g\n", i, label[i], dist[i]);
    }
    return sc_atomic_commit(f, tmp, path);
}
