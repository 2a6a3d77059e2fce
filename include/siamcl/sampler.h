/* Samplers: which images go into the next training batch. Host only, seeded, reproducible on
 * every platform (an own PRNG, never rand()), and resumable: each epoch's draws depend only on
 * (seed, epoch), so a run restarted at (epoch, position) continues the same stream.
 *
 * Pair batches follow the Siamese layout of the training step: ids[0 .. B) are the first
 * images and ids[B .. 2B) the second images of B pairs, labels y[B] are floats
 * (0 = same person, 1 = different, see lfw.h), ready for a label tensor.
 * P x K batches are P people with K images each, person after person; labels are the person
 * ids as floats (the triplet head compares them for equality). */
#ifndef SIAMCL_SAMPLER_H
#define SIAMCL_SAMPLER_H

#include <stdint.h>

#include "siamcl/lfw.h"

/* xoshiro256** seeded through splitmix64. */
typedef struct sc_rng {
    uint64_t s[4];
} sc_rng;

void sc_rng_seed(sc_rng *r, uint64_t seed);
/* An independent stream for (seed, a, b): e.g. (run seed, epoch, batch). */
void sc_rng_seed3(sc_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t sc_rng_next(sc_rng *r);
/* Uniform in [0, n) without modulo bias; n >= 1. */
uint32_t sc_rng_below(sc_rng *r, uint32_t n);
/* Uniform in [0, 1) with 53 random bits. */
double sc_rng_uniform(sc_rng *r);
/* Fisher-Yates. */
void sc_rng_shuffle(sc_rng *r, int *a, int n);

/* ---- pairs ------------------------------------------------------------------------------- */

enum { SC_PAIRS_FIXED = 0, SC_PAIRS_BALANCED = 1 };

typedef struct sc_pair_sampler {
    int mode;
    uint64_t seed;
    const sc_lfw *lfw;
    sc_pair *base; /* FIXED: the official list */
    int n_base;
    sc_pair *cur; /* this epoch's pairs in order */
    int n;        /* pairs per epoch */
    int pos;      /* next pair in cur */
    long epoch;
    int *people, n_people; /* BALANCED: training persons ... */
    int *multi, n_multi;   /* ... and those with >= 2 images */
} sc_pair_sampler;

/* The official list (e.g. pairsDevTrain.txt), reshuffled every epoch. When `train` is given,
 * a pair with a person outside it is an error (no test person is trained on). */
int sc_pair_sampler_fixed(sc_pair_sampler *s, const sc_lfw *lfw, const sc_pairs *list,
                          const sc_people *train, uint64_t seed);
/* Fresh pairs every epoch from the training persons (`train`, NULL = every person):
 * pairs_per_epoch / 2 same-person pairs (a person drawn uniformly among those with >= 2
 * images, then two distinct images of theirs) and the rest different-person pairs (two
 * distinct persons drawn uniformly, one image each), shuffled together. Drawing persons
 * rather than images keeps the few people with hundreds of photos from dominating.
 * pairs_per_epoch <= 0 means one pair per training image. */
int sc_pair_sampler_balanced(sc_pair_sampler *s, const sc_lfw *lfw, const sc_people *train,
                             int pairs_per_epoch, uint64_t seed);
/* The next B pairs (see the layout above); continues into the next epoch when this one runs
 * out, so every call returns exactly B pairs. */
int sc_pair_sampler_next(sc_pair_sampler *s, int b, int *ids, float *y);
/* Positions the stream at pair `pos` of `epoch` (resuming a run). */
int sc_pair_sampler_seek(sc_pair_sampler *s, long epoch, int pos);
void sc_pair_sampler_free(sc_pair_sampler *s);

/* ---- P x K identities -------------------------------------------------------------------- */

typedef struct sc_pk_sampler {
    const sc_lfw *lfw;
    uint64_t seed;
    int p, k, replace;
    int *people, n_people; /* eligible persons */
    int *order;            /* this epoch's person order */
    int pos;               /* next entry of order */
    long epoch;
    int *scratch; /* image choice workspace (largest person's image count) */
} sc_pk_sampler;

/* Batches of P distinct persons x K images each. replace = 0: only persons with >= K images
 * are used, K distinct images each. replace = 1: every person with >= 2 images is used; one
 * with fewer than K images contributes all of them once, in random order, then random repeats.
 * Persons are walked in a fresh random order each epoch, P at a time; the last < P of an epoch
 * are skipped so a batch never repeats a person. `train` (NULL = everyone) restricts persons. */
int sc_pk_sampler_init(sc_pk_sampler *s, const sc_lfw *lfw, const sc_people *train, int p, int k,
                       int replace, uint64_t seed);
/* ids[P*K] and labels[P*K] (person id as float), person after person. */
int sc_pk_sampler_next(sc_pk_sampler *s, int *ids, float *labels);
/* Batches per epoch (eligible persons / P). */
int sc_pk_sampler_batches(const sc_pk_sampler *s);
/* Positions the stream at batch `batch` of `epoch` (resuming a run). */
int sc_pk_sampler_seek(sc_pk_sampler *s, long epoch, int batch);
void sc_pk_sampler_free(sc_pk_sampler *s);

#endif
