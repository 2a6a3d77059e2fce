/* P x K identity batches for triplet training (FaceNet; Hermans et al. 2017). */
#include <stdlib.h>
#include <string.h>

#include "siamcl/sampler.h"

static void new_epoch(sc_pk_sampler *s)
{
    sc_rng r;
    sc_rng_seed3(&r, s->seed, (uint64_t)s->epoch, 1);
    memcpy(s->order, s->people, sizeof *s->order * (size_t)s->n_people);
    sc_rng_shuffle(&r, s->order, s->n_people);
    s->pos = 0;
}

int sc_pk_sampler_init(sc_pk_sampler *s, const sc_lfw *lfw, const sc_people *train, int p, int k,
                       int replace, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (p < 2 || k < 2)
        return sc_fail("P x K sampler needs P >= 2 and K >= 2 (got %d x %d): triplets need "
                       "positives and negatives", p, k);
    int n = train ? train->n : lfw->n_people, most = 1;
    s->people = malloc(sizeof *s->people * (size_t)(n ? n : 1));
    s->order = malloc(sizeof *s->order * (size_t)(n ? n : 1));
    if (!s->people || !s->order) {
        sc_pk_sampler_free(s);
        return sc_fail("out of memory");
    }
    for (int i = 0; i < n; i++) {
        int q = train ? train->person[i] : i;
        if (q < 0 || q >= lfw->n_people) {
            sc_pk_sampler_free(s);
            return sc_fail("P x K sampler: person id %d outside the index", q);
        }
        int c = lfw->people[q].count;
        if (c >= (replace ? 2 : k)) {
            s->people[s->n_people++] = q;
            most = c > most ? c : most;
        }
    }
    if (s->n_people < p) {
        int have = s->n_people;
        sc_pk_sampler_free(s);
        return sc_fail("P x K sampler: only %d training people have %d+ images, P = %d needs "
                       "more (lower P or K, or allow repeats)", have, replace ? 2 : k, p);
    }
    s->scratch = malloc(sizeof *s->scratch * (size_t)most);
    if (!s->scratch) {
        sc_pk_sampler_free(s);
        return sc_fail("out of memory");
    }
    s->lfw = lfw;
    s->seed = seed;
    s->p = p;
    s->k = k;
    s->replace = replace != 0;
    s->epoch = 0;
    new_epoch(s);
    return SC_OK;
}

int sc_pk_sampler_batches(const sc_pk_sampler *s) { return s->p ? s->n_people / s->p : 0; }

int sc_pk_sampler_seek(sc_pk_sampler *s, long epoch, int batch)
{
    if (epoch < 0 || batch < 0 || batch >= sc_pk_sampler_batches(s))
        return sc_fail("P x K sampler position (epoch %ld, batch %d) outside an epoch of %d "
                       "batches", epoch, batch, sc_pk_sampler_batches(s));
    s->epoch = epoch;
    new_epoch(s);
    s->pos = batch * s->p;
    return SC_OK;
}

int sc_pk_sampler_next(sc_pk_sampler *s, int *ids, float *labels)
{
    if (!s->order)
        return sc_fail("P x K sampler not initialised");
    if (s->pos + s->p > s->n_people) {
        s->epoch++;
        new_epoch(s);
    }
    /* Image choices get their own stream per (epoch, batch), so seek() reproduces them. */
    sc_rng r;
    sc_rng_seed3(&r, s->seed, (uint64_t)s->epoch, 2 + (uint64_t)(s->pos / s->p));
    for (int i = 0; i < s->p; i++) {
        const sc_lfw_person *q = &s->lfw->people[s->order[s->pos + i]];
        int c = q->count, *out = ids + (size_t)i * s->k;
        for (int j = 0; j < c; j++)
            s->scratch[j] = j;
        int distinct = c < s->k ? c : s->k;
        for (int j = 0; j < distinct; j++) { /* partial Fisher-Yates */
            int t = j + (int)sc_rng_below(&r, (uint32_t)(c - j));
            int v = s->scratch[t];
            s->scratch[t] = s->scratch[j];
            s->scratch[j] = v;
            out[j] = q->first + v;
        }
        for (int j = distinct; j < s->k; j++) /* only with replace = 1 */
            out[j] = q->first + (int)sc_rng_below(&r, (uint32_t)c);
        for (int j = 0; j < s->k; j++)
            labels[(size_t)i * s->k + j] = (float)s->order[s->pos + i];
    }
    s->pos += s->p;
    return SC_OK;
}

void sc_pk_sampler_free(sc_pk_sampler *s)
{
    if (!s)
        return;
    free(s->people);
    free(s->order);
    free(s->scratch);
    memset(s, 0, sizeof *s);
}
