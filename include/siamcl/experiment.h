/* An experiment end to end: data, network, training loop on the device, evaluation and the
 * run folder (config.ini, log.txt, metrics.jsonl, metrics.json, model.ckpt, roc.csv,
 * scores.csv, roc.png, loss.png, errors.png). runexp is a thin command line around this. */
#ifndef SIAMCL_EXPERIMENT_H
#define SIAMCL_EXPERIMENT_H

#include <signal.h>

#include "siamcl/config.h"

typedef struct sc_progress {
    int epoch, epochs;       /* 1-based current epoch */
    int step, steps;         /* step within the epoch (1-based) and steps per epoch */
    double loss;             /* the latest loss read back */
    double images_per_s;     /* this epoch so far */
    double eta_s;            /* to the end of training */
    int fold;                /* View 2 fold (1-based), 0 for View 1 */
} sc_progress;

typedef struct sc_run_opts {
    const char *out_dir;   /* overrides [experiment] out */
    const char *device;    /* overrides [experiment] device */
    const char *eval_only; /* evaluate this checkpoint, no training */
    const char *resume;    /* continue the run that wrote this checkpoint */
    const char *config_text; /* the config as given (for the run folder); may be NULL */
    volatile sig_atomic_t *stop; /* set asynchronously (Ctrl-C): checkpoint and stop */
    long stop_after_steps; /* tests: behave as if stop were set after this many steps (0 off) */
    void (*on_progress)(void *user, const sc_progress *p);
    void (*on_message)(void *user, const char *line); /* log lines, also written to log.txt */
    void *user;
    /* results */
    char run_dir[1024];
    int interrupted; /* stopped by `stop`: a checkpoint to resume from was written */
    char resume_from[1100]; /* when interrupted: the checkpoint --resume takes ("" = the run
                               cannot be resumed: View 2 trains each fold from scratch) */
} sc_run_opts;

/* Runs the experiment described by cfg (already checked). SC_ERR with a one-line reason on
 * any error; SC_OK when it finished or was interrupted cleanly (opts->interrupted). */
int sc_experiment_run(const sc_config *cfg, sc_run_opts *opts);

#endif
