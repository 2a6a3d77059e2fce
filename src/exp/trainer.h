/* The training loop's state: network, optimizer buffers, sampler and the device buffers of
 * one step, all allocated once. Internal to src/exp. */
#ifndef SIAMCL_EXP_TRAINER_H
#define SIAMCL_EXP_TRAINER_H

#include <signal.h>

#include "siamcl/checkpoint.h"
#include "siamcl/config.h"
#include "siamcl/data.h"
#include "siamcl/nn.h"

#define SC_LABEL_RING 8

typedef struct sc_trainer {
    const sc_config *cfg;
    sc_ctx *ctx;
    const sc_lfw *lfw;
    sc_dataset *ds;
    sc_net *net;
    sc_augment aug;      /* training augmentation + normalisation */
    sc_augment aug_eval; /* the same normalisation without randomness */
    int in_size;         /* T: network input side */
    int batch_images;    /* images per step: 2B pairs or P*K */
    int steps_per_epoch;
    int n_pairs;         /* pairs per epoch (pair samplers) */
    int use_pk;
    sc_pair_sampler ps;
    sc_pk_sampler pk;
    /* device buffers of one step */
    sc_tensor x, dist, loss, de, ws, stats, loss_hist;
    sc_tensor mom, adam_m, adam_v;
    cl_mem labels;       /* ring of label slots */
    float *lab_host;
    cl_event lab_ev[SC_LABEL_RING];
    int lab_pos;
    int *ids;
    /* position */
    long step;  /* optimizer steps done */
    int epoch;  /* epochs completed */
    int pos;    /* steps done in the current epoch */
    double epoch_loss_sum; /* losses of the current epoch read back so far (resume) */
    double first_step_done; /* monotonic time the first step of this process finished, 0 before */
    int epoch_loss_n;
} sc_trainer;

/* train_pairs: the list the fixed sampler walks (sampler = pairs); train_people: who the
 * balanced and pk samplers draw from (NULL = everyone in the dataset). */
int sc_trainer_init(sc_trainer *t, const sc_config *cfg, sc_ctx *ctx, const sc_lfw *lfw,
                    sc_dataset *ds, const sc_pairs *train_pairs, const sc_people *train_people);
void sc_trainer_free(sc_trainer *t);

typedef struct sc_epoch_hooks {
    volatile sig_atomic_t *stop;
    long stop_after_steps;
    void (*on_progress)(void *user, int step, int steps, double loss, double images_per_s);
    void *user;
} sc_epoch_hooks;

/* Runs the rest of the current epoch. *mean_loss: mean training loss of the epoch; *stopped:
 * 1 when interrupted (the trainer's position says where). A NaN or Inf loss is an error. */
int sc_trainer_epoch(sc_trainer *t, const sc_epoch_hooks *h, double *mean_loss, int *stopped,
                     double *seconds);

/* Learning rate at the trainer's current position. */
double sc_trainer_lr(const sc_trainer *t);

/* Checkpoint with everything --resume needs (optimizer moments, position, partial epoch). */
int sc_trainer_checkpoint(const sc_trainer *t, sc_ckpt *ck);
int sc_trainer_restore(sc_trainer *t, const sc_ckpt *ck);

/* Embeddings [n, D] of the dataset images `ids` in eval mode (test-time flip averaging when
 * configured). *emb malloc'ed. */
int sc_trainer_embed(sc_trainer *t, const int *ids, int n, float **emb, int *dim);

#endif
