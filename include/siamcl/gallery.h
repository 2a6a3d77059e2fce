/* The gallery room: turning photos into embeddings exactly as the model was trained to see
 * them, and searching enrolled embeddings on the device (1:1 verify, 1:N identify).
 * The SQLite store and the facedb commands are in gallery_store.h.
 *
 *     sc_embedder em;   sc_embedder_open(&em, ctx, "best.ckpt", 32);
 *     sc_embed_images(&em, paths, n, emb, hashes);          // files -> [n, D] on the host
 *     sc_gallery g;     sc_gallery_init(&g, ctx, em.dim);
 *     sc_gallery_add(&g, "Ada", 0, emb, 1);                 // one template per row
 *     sc_gallery_identify(&g, queries, nq, 5, matches, found);
 *
 * Distances are Euclidean between embeddings; a threshold t accepts when distance <= t (the
 * convention of eval.h and of the checkpoint's calibrated thresholds). */
#ifndef SIAMCL_GALLERY_H
#define SIAMCL_GALLERY_H

#include <stdint.h>

#include "siamcl/checkpoint.h"
#include "siamcl/data.h"
#include "siamcl/nn.h"

/* ---- what a checkpoint says about its inputs ------------------------------------------------
 * Metadata keys written by runexp's trainer (all optional; the defaults reproduce a network
 * trained on whole images scaled to [0, 1]):
 *   image_size   T, the network's input side (must match the checkpoint's input shape)
 *   prep_size    S, the side each photo is resized to before the centred T x T window (>= T)
 *   crop         "none" or "x,y,w,h": box in source pixels cut out before resizing
 *   norm_mean, norm_std   "r,g,b": (v - mean) / std with v in [0, 1]
 *   test_flip    0/1: the embedding is the mean of the photo's and its mirror's
 *   threshold_eer, threshold_far_0.01, threshold_far_0.001   calibrated distance thresholds
 *   embedding_dim          checked against the network's output size when present */

#define SC_FINGERPRINT_LEN 17 /* 16 hex digits and the terminator */

typedef struct sc_model_info {
    sc_prep prep;      /* decode -> S x S (crop, resize) */
    sc_augment aug;    /* eval view: T, normalisation, no randomness */
    int test_flip;
    int dim;           /* embedding_dim from the metadata, 0 when absent (the embedder checks it
                        * against the network) */
    double threshold_eer, threshold_far_1e2, threshold_far_1e3; /* NAN when absent */
    char fingerprint[SC_FINGERPRINT_LEN];
} sc_model_info;

/* Reads the keys above (a malformed value is an error naming the key) and fingerprints the
 * model: FNV-1a 64 over the input shape, the layer list, the "params" and "state" blobs and
 * the parsed preprocessing (a different crop or normalisation gives different embeddings
 * from the same weights, so it is a different model). Thresholds are not part of it:
 * recalibrating does not change embeddings. */
int sc_model_info_from_ckpt(const sc_ckpt *ck, sc_model_info *info);

/* The calibrated threshold for "eer", "0.01" or "0.001" (also "1e-2", "1e-3"); an error
 * naming the missing checkpoint key when the checkpoint has none. */
int sc_model_threshold(const sc_model_info *info, const char *which, double *threshold);

/* ---- embedding ------------------------------------------------------------------------------ */

typedef struct sc_embedder {
    sc_ctx *ctx;
    sc_net *net;
    sc_model_info info;
    int dim, batch;      /* embedding size; images per forward */
    char model_path[1024];
    /* staging for photos that come from files: uint8 [cap, 3, S, S] on host and device */
    int cap;
    uint8_t *host;
    cl_mem images, means, slots;
    sc_tensor x;         /* [batch, 3, T, T] network input */
    float *views;        /* [batch, dim] second view (test_flip) */
} sc_embedder;

/* Loads the checkpoint and builds the network for batches of up to `batch` images (0: 32). */
int sc_embedder_open(sc_embedder *e, sc_ctx *ctx, const char *ckpt_path, int batch);
int sc_embedder_from_ckpt(sc_embedder *e, sc_ctx *ctx, const sc_ckpt *ck, const char *name,
                          int batch);
void sc_embedder_close(sc_embedder *e);

/* Photos -> embeddings out [n, dim] (host). Each file is read, decoded and prepared (on all
 * cores) as the checkpoint says, gathered and normalised on the device, run through the
 * network in eval mode, flip-averaged when test_flip. hashes (may be NULL): FNV-1a 64 of each
 * file's bytes. The first unreadable photo fails the whole call, naming it. */
int sc_embed_images(sc_embedder *e, const char *const *paths, int n, float *out,
                    uint64_t *hashes);
/* The same from a dataset already on the device (LFW evaluation): ds must have been opened
 * with e->info.prep. */
int sc_embed_dataset(sc_embedder *e, sc_dataset *ds, const int *ids, int n, float *out);

/* ---- device index: the gallery matrix and batched search ------------------------------------ */

typedef struct sc_index {
    sc_ctx *ctx;
    int dim, n, cap;
    cl_mem emb;   /* [cap, dim] */
    cl_mem norms; /* [cap] squared norms */
    /* search scratch, grown on demand and kept */
    size_t q_cap, qn_cap, s_cap, l_cap, w_cap, r_cap; /* floats */
    cl_mem q, qn, s, lists, ws, res;
    float *res_host;
    size_t block_floats; /* budget for one GEMM block of dot products (default 8 Mi floats) */
    int query_block;     /* queries per GEMM (default 256) */
    int single_gemm;     /* 1: a single query also goes through the GEMM (benchmarks); default 0:
                          * its distances are computed in the scan, no GEMM */
} sc_index;

int sc_index_init(sc_index *ix, sc_ctx *ctx, int dim);
void sc_index_free(sc_index *ix);
/* Appends n rows (uploaded once; capacity doubles as needed). Non-finite values are refused. */
int sc_index_add(sc_index *ix, const float *emb, int n);
/* For each of nq queries [nq, dim]: the k nearest rows in ascending Euclidean distance, ties
 * to the lower row. Rows beyond the gallery size get index -1 and distance +INF. Distances
 * are from ||q||^2 + ||g||^2 - 2 q.g in float (about 1e-3 absolute near 0 for unit vectors):
 * sc_gallery_identify recomputes the exact ones for what it returns. k <= SC_TOPK_MAX_K. */
int sc_index_search(sc_index *ix, const float *q, int nq, int k, int *idx, float *dist);

/* Plain-C brute force (tests, benchmarks): exact squared differences summed in float. */
void sc_knn_host(const float *gallery, int n, int dim, const float *q, int nq, int k, int *idx,
                 float *dist);

/* ---- gallery: templates of named people ----------------------------------------------------- */

typedef struct sc_gallery {
    int dim;
    int n, cap;           /* templates */
    float *emb;           /* [n, dim] host copy (exact distances, verify) */
    int *person;          /* template -> person */
    int npeople, pcap;
    char **names;         /* person -> name */
    long long *ids;       /* person -> store id (0 when not from a store) */
    int *count;           /* person -> templates */
    int max_templates;    /* most templates of any person */
    sc_index index;       /* device copy of emb (rows index.n .. n-1 not uploaded yet) */
} sc_gallery;

int sc_gallery_init(sc_gallery *g, sc_ctx *ctx, int dim);
void sc_gallery_free(sc_gallery *g);
/* Adds a new person with n >= 1 templates (host copy; the device copy is brought up to date
 * in one upload by the next identify). Callers own name uniqueness (stores enforce it). */
int sc_gallery_add(sc_gallery *g, const char *name, long long id, const float *emb, int n);
/* Person index for a name, -1 when absent (linear: for single look-ups). */
int sc_gallery_find(const sc_gallery *g, const char *name);
/* Exact distance (double) from an embedding to a person's nearest template. */
double sc_gallery_distance(const sc_gallery *g, int person, const float *q);

typedef struct sc_match {
    int person;      /* index into g->names */
    double distance; /* to that person's nearest template, exact */
} sc_match;

/* For each query: up to k people, nearest first (each person once, at the distance of their
 * nearest template). out [nq, k]; found[q] = how many are filled (min(k, people), fewer only
 * when people have more templates than one search can return). Searches on the device. */
int sc_gallery_identify(sc_gallery *g, const float *q, int nq, int k, sc_match *out,
                        int *found);

/* ---- evaluation of the whole system on LFW --------------------------------------------------- */

typedef struct sc_system_eval_opts {
    const char *lfw_root;
    const char *people;    /* list of test people (default "peopleDevTest.txt") */
    const char *cache_dir; /* dataset cache (NULL: none) */
    uint64_t seed;         /* impostor claims in the verification pairs */
    int batch;             /* images per forward (0: 64) */
} sc_system_eval_opts;

#define SC_SYSEVAL_THRESHOLDS 3 /* eer, far 0.01, far 0.001 from the checkpoint */

typedef struct sc_system_eval {
    int enrolled;          /* people with >= 2 images: first image enrolled */
    int genuine;           /* their other images: probes of enrolled people */
    int strangers;         /* images of the test people with one image (never enrolled) */
    double rank1;          /* genuine probes whose nearest person is right */
    /* open set, thresholds chosen on this set's strangers: the largest threshold whose
     * false-alarm rate (strangers matched to anyone) is <= the target */
    double far_target[2];  /* 0.01, 0.001 */
    double dir[2];         /* detection and identification rate: right and within threshold */
    double dir_threshold[2];
    /* the checkpoint's calibrated thresholds (NAN when absent) as the system would run */
    const char *cal_name[SC_SYSEVAL_THRESHOLDS];
    double cal_threshold[SC_SYSEVAL_THRESHOLDS];
    double cal_dir[SC_SYSEVAL_THRESHOLDS];       /* open-set DIR at it */
    double cal_false_alarm[SC_SYSEVAL_THRESHOLDS];
    /* verification (1:1 claims): every genuine probe claims its own identity and one random
     * other enrolled identity (balanced) */
    int claims;
    double cal_tar[SC_SYSEVAL_THRESHOLDS], cal_far[SC_SYSEVAL_THRESHOLDS];
    double cal_accuracy[SC_SYSEVAL_THRESHOLDS];
    double verif_auc, verif_eer;
    double seconds_embed, seconds_search, images_per_s;
} sc_system_eval;

int sc_system_evaluate(sc_ctx *ctx, const char *ckpt_path, const sc_system_eval_opts *o,
                       sc_system_eval *r);

#endif
