/* Shared between the experiment's files (not public). */
#ifndef SIAMCL_EXP_INTERNAL_H
#define SIAMCL_EXP_INTERNAL_H

#include <stdio.h>

#include "siamcl/eval.h"
#include "siamcl/experiment.h"
#include "trainer.h"

const char *sc_git_revision(void);

typedef struct sc_run {
    const sc_config *cfg;
    sc_run_opts *o;
    sc_ctx *ctx;
    sc_lfw lfw;
    sc_dataset ds;
    int frame_w, frame_h; /* size of the first image the crop box applies to (0: not read) */
    char dir[1024];
    FILE *log;
    double t_start; /* monotonic seconds when the run began */
    /* history for loss.png and the checkpoint */
    double loss_hist[4096];
    int n_loss;
    int auc_epoch[4096];
    double auc_hist[4096];
    int n_auc;
} sc_run;

void sc_run_msg(sc_run *r, const char *fmt, ...) SC_PRINTF(2, 3);
/* dir/name into buf. */
void sc_run_path(const sc_run *r, const char *name, char *buf, size_t size);

/* Distances of `pairs` from the embeddings of the images `ids` (rows of emb, sorted ids). */
int sc_pair_distances(const sc_pairs *pairs, const int *ids, int n_ids, const float *emb, int dim,
                      double *dist, int *label);

/* Evaluation of one model on View 1: threshold and calibration from train, figures on test.
 * Writes roc.csv, scores.csv, roc.png, errors.png into the run folder when `files`. */
typedef struct sc_v1_result {
    sc_verif_metrics m;
    double thr_eer, thr_far2, thr_far3; /* calibrated on the training pairs */
    double train_accuracy;
} sc_v1_result;
int sc_eval_view1(sc_run *r, sc_trainer *t, const sc_pairs *train, const sc_pairs *test, int files,
                  sc_v1_result *res);

#endif
