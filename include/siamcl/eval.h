/* Verification metrics on the host, in double precision (no OpenCL).
 *
 * Conventions used everywhere in this header:
 * - label 0 = same person, 1 = different people (the mission's Y);
 * - a larger distance means "more likely different";
 * - a threshold t ACCEPTS a pair (predicts "same person") when distance <= t;
 * - TAR (true accept rate)  = accepted same-person pairs / same-person pairs;
 *   FAR (false accept rate) = accepted different-person pairs / different-person pairs.
 * The ROC curve is TAR against FAR as t sweeps from below the smallest distance (nothing
 * accepted, the point (0, 0)) to the largest (everything accepted, (1, 1)).
 *
 * Every function validates its input: labels must be 0 or 1, distances finite, and the
 * curve-based metrics need at least one pair of each label. Failures return SC_ERR with
 * sc_last_error() naming the problem. */
#ifndef SIAMCL_EVAL_H
#define SIAMCL_EVAL_H

#include <stddef.h>

#include "siamcl/error.h"

/* ---- ROC ---------------------------------------------------------------------------- */

typedef struct sc_roc_point {
    double threshold;   /* accept distance <= threshold */
    double far, tar;
    size_t same, diff;  /* accepted same-person / different-person pairs */
} sc_roc_point;

/* One point per distinct distance, plus the (0, 0) start: pairs with equal distances are
 * accepted together, so a tie is one (diagonal) step, never an arbitrary staircase. The
 * start point's threshold is the largest double below the smallest distance. */
typedef struct sc_roc {
    sc_roc_point *pt;
    size_t n;               /* number of points (distinct distances + 1) */
    size_t n_same, n_diff;  /* pairs of each label */
} sc_roc;

int sc_roc_compute(const double *dist, const int *label, size_t n, sc_roc *roc);
void sc_roc_free(sc_roc *roc);

/* Area under the ROC by the trapezoid rule (equals sc_auc on the same data). */
double sc_roc_auc(const sc_roc *roc);

/* AUC as the Mann-Whitney statistic with midranks for ties:
 * P(d_diff > d_same) + 0.5 * P(d_diff == d_same) over all (same, different) pair couples. */
int sc_auc(const double *dist, const int *label, size_t n, double *auc);

/* Equal error rate: the FAR where FAR = FRR (= 1 - TAR), linearly interpolated along the ROC
 * segment that crosses the diagonal FAR + TAR = 1. *threshold (may be NULL) is interpolated
 * the same way between the segment's two thresholds. */
int sc_roc_eer(const sc_roc *roc, double *eer, double *threshold);

/* TAR at a FAR target: the largest TAR among the ROC points with FAR <= far_target (no
 * interpolation, so the reported operating point is one that was actually achieved on this
 * set). *threshold (may be NULL) is that point's threshold: the largest data distance whose
 * acceptance keeps FAR <= far_target. With FAR = 0 only, TAR may be 0. */
int sc_roc_tar_at_far(const sc_roc *roc, double far_target, double *tar, double *threshold);

/* ---- accuracy and thresholds -------------------------------------------------------- */

/* Fraction of pairs classified correctly with "same" when distance <= threshold. */
int sc_accuracy_at(const double *dist, const int *label, size_t n, double threshold,
                   double *accuracy);

/* The threshold that maximises accuracy on (training) pairs. Among equally good ROC
 * points the one with the smallest threshold wins; the returned threshold is then the
 * midpoint between that point's distance and the next larger distinct distance (so that
 * unseen pairs falling in the gap are split evenly), or the largest distance when
 * everything is accepted, or the start point's threshold when nothing is. *accuracy (may
 * be NULL) is the accuracy reached on these pairs. */
int sc_best_threshold(const double *dist, const int *label, size_t n, double *threshold,
                      double *accuracy);

/* ---- summary for one test set ------------------------------------------------------- */

#define SC_EVAL_MAX_FAR 8

typedef struct sc_verif_metrics {
    size_t n, n_same, n_diff;
    double auc;
    double eer, eer_threshold;
    int n_far;
    double far[SC_EVAL_MAX_FAR];           /* the targets asked for */
    double tar[SC_EVAL_MAX_FAR];           /* TAR at each target (sc_roc_tar_at_far) */
    double far_threshold[SC_EVAL_MAX_FAR]; /* threshold reaching it */
    double threshold, accuracy;            /* accuracy at the given (training) threshold */
} sc_verif_metrics;

/* Everything above on one set. `threshold` was chosen elsewhere (on training pairs); pass
 * NAN to leave accuracy as NAN. far targets: n_far <= SC_EVAL_MAX_FAR values in (0, 1). */
int sc_verif_evaluate(const double *dist, const int *label, size_t n, double threshold,
                      const double *far, int n_far, sc_verif_metrics *m);

/* ---- the LFW View 2 protocol -------------------------------------------------------- */

#define SC_EVAL_MAX_FOLDS 32

typedef struct sc_folds_result {
    int nfolds;
    double threshold[SC_EVAL_MAX_FOLDS]; /* chosen on the other folds (sc_best_threshold) */
    double accuracy[SC_EVAL_MAX_FOLDS];  /* on this fold at that threshold */
    double auc[SC_EVAL_MAX_FOLDS];       /* on this fold */
    double mean_accuracy, se_accuracy;   /* se = sample std (n - 1) / sqrt(nfolds), as LFW */
    double mean_auc, se_auc;
} sc_folds_result;

/* fold[i] in 0 .. nfolds-1 is pair i's fold. For each fold the threshold is chosen on all
 * the other folds' pairs and accuracy is measured on the fold itself. Every fold needs both
 * labels; nfolds in 2 .. SC_EVAL_MAX_FOLDS. */
int sc_folds_evaluate(const double *dist, const int *label, const int *fold, size_t n,
                      int nfolds, sc_folds_result *out);

/* ---- the pairs worth looking at ----------------------------------------------------- */

/* Indices of the worst pairs: up to per_kind different-person pairs with the smallest
 * distances (closest first), then up to per_kind same-person pairs with the largest
 * distances (farthest first). idx needs room for 2 * per_kind entries; returns the count. */
size_t sc_worst_pairs(const double *dist, const int *label, size_t n, size_t per_kind,
                      size_t *idx);

/* ---- files (written to a temporary name, then renamed into place) -------------------- */

/* roc.csv: header "threshold,far,tar", one row per ROC point. */
int sc_roc_write_csv(const sc_roc *roc, const char *path);
/* scores.csv: header "pair,label,distance" (pair = index in the evaluated list, from 0),
 * or "pair,fold,label,distance" when fold is not NULL (folds written from 1, as LFW). */
int sc_scores_write_csv(const double *dist, const int *label, const int *fold, size_t n,
                        const char *path);

/* A tiny JSON object builder for metrics.json / metrics.jsonl: flat objects of numbers,
 * integers, strings and number arrays. NaN and infinities become null. Memory errors are
 * remembered and reported by sc_json_write / sc_json_append. */
typedef struct sc_json {
    char *buf;
    size_t len, cap;
    int fields, failed, closed;
} sc_json;

void sc_json_begin(sc_json *j);
void sc_json_num(sc_json *j, const char *key, double v);
void sc_json_int(sc_json *j, const char *key, long long v);
void sc_json_str(sc_json *j, const char *key, const char *v);
void sc_json_bool(sc_json *j, const char *key, int v);
void sc_json_nums(sc_json *j, const char *key, const double *v, size_t n);
/* Closes the object (once; later calls just return it); returns the text ("{...}") or
 * NULL after a memory error. sc_json_write / sc_json_append close it when needed. */
const char *sc_json_end(sc_json *j);
/* Writes the object and a newline as the whole file (temp + rename). */
int sc_json_write(sc_json *j, const char *path);
/* Appends the object as one line (metrics.jsonl), flushed and fsync'ed. */
int sc_json_append(sc_json *j, const char *path);
void sc_json_free(sc_json *j);

#endif
