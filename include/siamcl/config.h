/* Experiment configs: strict INI files (libinih), one per experiment.
 *
 * Syntax: `[section]` headers, `key = value` lines, comments on lines starting with ';' or
 * '#', and inline comments after whitespace + ';' or '#'. Leading whitespace is ignored (no
 * multi-line values). Lines are limited to the parser's line length (200 characters).
 *
 * Strict: an unknown section or key, a key given twice, a value of the wrong type or out of
 * range, or a missing required key is an error "FILE:LINE: [section] key: reason"; errors
 * from --set name the assignment instead of FILE:LINE.
 *
 * Every key, with its default ("required" = no default):
 *
 * [experiment]
 *   name         required  run name (letters, digits, '-', '_', '.'): runs/<name>-<time>/
 *   seed         0         seed of everything random (init, samplers, augmentation, dropout)
 *   device       ""        OpenCL device: index or name substring; "" = SIAMCL_DEVICE or the
 *                          first GPU, else any device
 *   out          ""        run folder; "" = runs/<name>-<timestamp>/
 *   eval_every   1         evaluate on the test pairs every N epochs (0 = only at the end)
 *
 * [data]  (paths may use $VAR or ${VAR} from the environment; $$ is a literal $)
 *   root         ""        data folder (LFW: Name/Name_NNNN.jpg + the list files); "" = the
 *                          LFW_DIR environment variable (sc_config_check fills it in)
 *   train_pairs  pairsDevTrain.txt  training pairs (sampler = pairs) and the pairs the
 *                          accuracy threshold is chosen on; relative to root
 *   test_pairs   pairsDevTest.txt   test pairs (View 1), relative to root
 *   view2_pairs  pairs.txt          the 10-fold pairs (View 2), relative to root
 *   train_people peopleDevTrain.txt training identities for the balanced and pk samplers
 *   image_size   128       side S of the square network input, 3 x S x S (8 .. 1024)
 *   crop         none      "none" (whole frame) or "x,y,w,h": box in source pixels cut out
 *                          before resizing
 *   normalize    unit      none = raw 0..255; unit = [0, 1]; meanstd = per-channel mean and
 *                          std of the training images removed
 *   sampler      pairs     pairs = the fixed train_pairs list, shuffled each epoch;
 *                          balanced = fresh 50/50 same/different pairs from train_people;
 *                          pk = P people x K images per batch (triplet training)
 *   pairs_per_epoch 2200   pairs drawn per epoch by the balanced sampler
 *   p            16        people per batch (pk)
 *   k            4         images per person (pk; >= 2)
 *   batches_per_epoch 0    batches per epoch for pk; 0 = training images / (p * k)
 *   flip         off       random horizontal flip
 *   jitter       0         random translation, up to N pixels each way (0 .. image_size/2)
 *   brightness   0         random brightness offset, uniform in +-b (pixel scale [0, 1])
 *   contrast     0         random contrast factor, uniform in [1 - c, 1 + c] (0 .. 1)
 *   test_flip    off       test embeddings = mean of the image's and its mirror's
 *   cache        ""        decoded-dataset cache folder (relative to the working directory;
 *                          "" = no cache)
 *
 * [model]
 *   layer        required  one line per layer, in order: `layer = KIND key=value ...`
 *                          conv out=N k=3 stride=1 pad=0 bias=1 (out required)
 *                          maxpool k=2 stride=k pad=0       avgpool k=0 (global) stride=k pad=0
 *                          relu   leaky_relu slope=0.01     batchnorm eps=1e-5 momentum=0.1
 *                          dropout p=0.5   linear out=N bias=1 (out required)   l2norm eps=1e-12
 *                          (stride defaults to k for pools; pad <= k/2 for pools)
 *   init         torch     torch (PyTorch's default U(+-1/sqrt(fan_in))) | kaiming | xavier
 *
 * [train]
 *   loss         contrastive  contrastive | triplet (triplet needs sampler = pk)
 *   margin       1         contrastive margin m, or the triplet margin alpha
 *   mining       semi_hard batch_all | batch_hard | semi_hard (triplet)
 *   squared      off       triplet on squared Euclidean distances (as FaceNet)
 *   optimizer    sgd       sgd | adam
 *   lr           0.001     learning rate (after warmup, before the schedule)
 *   momentum     0         SGD momentum (0 .. < 1)
 *   weight_decay 0         L2 weight decay on weights (not biases or batch-norm affine)
 *   beta1        0.9       Adam
 *   beta2        0.999     Adam
 *   schedule     constant  constant | step (lr *= gamma every step_epochs) | cosine (to
 *                          min_lr at the last epoch)
 *   step_epochs  10        step schedule period, epochs
 *   gamma        0.1       step schedule factor (0 .. 1]
 *   min_lr       0         cosine schedule floor
 *   warmup_epochs 0        linear warmup over the first N epochs (per step, up to lr);
 *                          the schedule then runs over the remaining epochs (< epochs)
 *   batch        16        pairs per step (pairs, balanced); pk batches are p * k images
 *   epochs       30        (1 .. 100000)
 *   checkpoint_every 0     also write a checkpoint every N epochs (0 = only at the end)
 *   log_every    10        read the loss back and report every N steps
 *
 * [eval]
 *   view2        off       run the 10-fold View 2 protocol: per fold, train on the other
 *                          folds' people (from `people`), pick the threshold on the other
 *                          folds' pairs, test on the fold
 *   people       people.txt  the View 2 people, per fold (relative to root)
 *   folds        all       which View 2 folds to run: "all" or a list such as "1,2,3"
 *   far          0.1,0.01,0.001  FAR targets for TAR@FAR and calibrated thresholds (1..8,
 *                          each in (0, 1))
 *   errors       8         pairs of each kind in errors.png (0 = no errors.png)
 *   log_far      off       roc.png with FAR on a log axis
 */
#ifndef SIAMCL_CONFIG_H
#define SIAMCL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "siamcl/error.h"
#include "siamcl/layers.h"

#define SC_CONFIG_STR 512
#define SC_CONFIG_MAX_LAYERS 64
#define SC_CONFIG_MAX_FAR 8
#define SC_CONFIG_MAX_FOLDS 10
#define SC_CONFIG_MAX_KEYS 96

typedef enum sc_normalize { SC_NORM_NONE, SC_NORM_UNIT, SC_NORM_MEANSTD } sc_normalize;
typedef enum sc_sampler { SC_SAMPLER_PAIRS, SC_SAMPLER_BALANCED, SC_SAMPLER_PK } sc_sampler;
typedef enum sc_loss { SC_LOSS_CONTRASTIVE, SC_LOSS_TRIPLET } sc_loss;
/* Same order as sc_triplet_mining (ops_loss.h): a cast maps one onto the other. */
typedef enum sc_mining { SC_MINING_BATCH_ALL, SC_MINING_BATCH_HARD, SC_MINING_SEMI_HARD } sc_mining;
/* Same order as sc_init (nn.h). Kept separate so that configs need no OpenCL headers. */
typedef enum sc_init_kind { SC_INITK_TORCH, SC_INITK_KAIMING, SC_INITK_XAVIER } sc_init_kind;
typedef enum sc_optimizer { SC_OPT_SGD, SC_OPT_ADAM } sc_optimizer;
typedef enum sc_schedule { SC_SCHED_CONSTANT, SC_SCHED_STEP, SC_SCHED_COSINE } sc_schedule;

typedef struct sc_experiment_cfg {
    char name[SC_CONFIG_STR];
    uint64_t seed;
    char device[SC_CONFIG_STR];
    char out[SC_CONFIG_STR];
    int eval_every;
} sc_experiment_cfg;

typedef struct sc_data_cfg {
    char root[SC_CONFIG_STR];
    char train_pairs[SC_CONFIG_STR];
    char test_pairs[SC_CONFIG_STR];
    char view2_pairs[SC_CONFIG_STR];
    char train_people[SC_CONFIG_STR];
    int image_size;
    int crop_x, crop_y, crop_w, crop_h; /* crop_w = crop_h = 0: none (as sc_prep) */
    sc_normalize normalize;
    sc_sampler sampler;
    int pairs_per_epoch;
    int p, k;
    int batches_per_epoch;
    int flip;
    int jitter;
    double brightness, contrast;
    int test_flip;
    char cache[SC_CONFIG_STR];
} sc_data_cfg;

typedef struct sc_model_cfg {
    int n_layers;
    sc_layer_desc layer[SC_CONFIG_MAX_LAYERS];
    sc_init_kind init;
} sc_model_cfg;

typedef struct sc_train_cfg {
    sc_loss loss;
    double margin;
    sc_mining mining;
    int squared;
    sc_optimizer optimizer;
    double lr, momentum, weight_decay, beta1, beta2;
    sc_schedule schedule;
    int step_epochs;
    double gamma, min_lr;
    int warmup_epochs;
    int batch, epochs;
    int checkpoint_every;
    int log_every;
} sc_train_cfg;

typedef struct sc_eval_cfg {
    int view2;
    char people[SC_CONFIG_STR];
    unsigned folds; /* bit f-1 set: run fold f (1-based); 0 = all */
    int n_far;
    double far[SC_CONFIG_MAX_FAR];
    int errors;
    int log_far;
} sc_eval_cfg;

typedef struct sc_config {
    char path[SC_CONFIG_STR]; /* file last read ("" if none), for messages */
    sc_experiment_cfg experiment;
    sc_data_cfg data;
    sc_model_cfg model;
    sc_train_cfg train;
    sc_eval_cfg eval;
    /* private: where each key's value came from (> 0 line in `path`, -1 --set, 0 default) */
    int origin_[SC_CONFIG_MAX_KEYS];
} sc_config;

/* All defaults; no layers, no name. */
void sc_config_init(sc_config *cfg);
/* Parses an INI file over cfg (keys it sets replace the current values; the first `layer`
 * line replaces the layer list). Per-key validation only: call sc_config_check after the
 * --set overrides. On error cfg may be partly updated. */
int sc_config_read(sc_config *cfg, const char *path);
/* The same on text in memory; `name` stands for the file name in messages. */
int sc_config_read_string(sc_config *cfg, const char *text, const char *name);
/* One override "section.key=value" with the same validation (errors name the --set).
 * Layers: "model.layer.N=SPEC" replaces layer N (1-based), N = count + 1 appends, and
 * SPEC "none" removes layer N. */
int sc_config_set(sc_config *cfg, const char *assignment);
/* Checks across keys (required keys present, at least one layer, loss vs sampler, ...) and
 * fills data.root from LFW_DIR when it is empty. Call after read and set. */
int sc_config_check(sc_config *cfg);
/* init + read + check. */
int sc_config_load(sc_config *cfg, const char *path);

/* The fully resolved config as INI text (every key, defaults included, layers in order with
 * every parameter); reading it back gives an equal config. malloc'ed; NULL after sc_fail. */
char *sc_config_format(const sc_config *cfg);
/* The same written to path (temp file + rename). */
int sc_config_write(const sc_config *cfg, const char *path);

/* A key's value as it would be written ("section.key", or "model.layer.N"; in paths a '$'
 * is written "$$"); SC_ERR for an unknown key. */
int sc_config_get(const sc_config *cfg, const char *key, char *buf, size_t size);
/* 0 when a and b are equal in every key (origins and path ignored); otherwise 1 with the
 * first differing key ("train.lr", "model.layer.3", "model.layers") copied to key (may be
 * NULL). */
int sc_config_diff(const sc_config *a, const sc_config *b, char *key, size_t size);

/* A data file path: `rel` itself when absolute, else root/rel. */
int sc_config_data_path(const sc_config *cfg, const char *rel, char *out, size_t size);

/* Names as written in configs ("contrastive", "sgd", ...). */
const char *sc_loss_name(sc_loss v);
const char *sc_sampler_name(sc_sampler v);
const char *sc_optimizer_name(sc_optimizer v);
const char *sc_schedule_name(sc_schedule v);
const char *sc_mining_name(sc_mining v);
const char *sc_normalize_name(sc_normalize v);

#endif
