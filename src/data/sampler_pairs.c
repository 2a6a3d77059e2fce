/* Pair samplers: the official list reshuffled each epoch, or fresh balanced pairs. Each
 * epoch is generated from (seed, epoch) alone, which is what makes seek() exact. */
#include <stdlib.h>
#include <string.h>

#include "siamcl/sampler.h"

static void fill_epoch(sc_pair_sampler *s)
{
    sc_rng r;
    sc_rng_seed3(&r, s->seed, (uint64_t)s->epoch, 0);
    if (s->mode == SC_PAIRS_FIXED) {
        memcpy(s->cur, s->base, sizeof *s->cur * (size_t)s->n);
    } else {
        const sc_lfw *lfw = s->lfw;
        int same = s->n / 2;
        for (int i = 0; i < s->n; i++) {
            sc_pair *p = &s->cur[i];
            p->fold = 0;
            if (i < same) {
                const sc_lfw_person *q = &lfw->people[s->multi[sc_rng_below(&r, (uint32_t)s->n_multi)]];
                int a = (int)sc_rng_below(&r, (uint32_t)q->count);
                int b = (int)sc_rng_below(&r, (uint32_t)q->count - 1);
                b += b >= a; /* distinct from a, still uniform */
                p->a = q->first + a;
                p->b = q->first + b;
                p->y = SC_SAME;
            } else {
                int i1 = (int)sc_rng_below(&r, (uint32_t)s->n_people);
                int i2 = (int)sc_rng_below(&r, (uint32_t)s->n_people - 1);
                i2 += i2 >= i1;
                const sc_lfw_person *q1 = &lfw->people[s->people[i1]];
                const sc_lfw_person *q2 = &lfw->people[s->people[i2]];
                p->a = q1->first + (int)sc_rng_below(&r, (uint32_t)q1->count);
                p->b = q2->first + (int)sc_rng_below(&r, (uint32_t)q2->count);
                p->y = SC_DIFFERENT;
            }
        }
    }
    for (int i = s->n - 1; i > 0; i--) {
        int j = (int)sc_rng_below(&r, (uint32_t)i + 1);
        sc_pair t = s->cur[i];
        s->cur[i] = s->cur[j];
        s->cur[j] = t;
    }
}

int sc_pair_sampler_seek(sc_pair_sampler *s, long epoch, int pos)
{
    if (epoch < 0 || pos < 0 || pos >= s->n)
        return sc_fail("pair sampler position (epoch %ld, pair %d) outside an epoch of %d pairs",
                       epoch, pos, s->n);
    s->epoch = epoch;
    fill_epoch(s);
    s->pos = pos;
    return SC_OK;
}

int sc_pair_sampler_fixed(sc_pair_sampler *s, const sc_lfw *lfw, const sc_pairs *list,
                          const sc_people *train, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (!list || list->n <= 0)
        return sc_fail("pair sampler: the pair list is empty");
    if (train) {
        int out = sc_pairs_outside(lfw, list, train);
        if (out != 0)
            return out < 0 ? SC_ERR
                           : sc_fail("pair sampler: %d of the %d pairs use people outside the "
                                     "training people list", out, list->n);
    }
    s->mode = SC_PAIRS_FIXED;
    s->seed = seed;
    s->lfw = lfw;
    s->n = s->n_base = list->n;
    s->base = malloc(sizeof *s->base * (size_t)s->n);
    s->cur = malloc(sizeof *s->cur * (size_t)s->n);
    if (!s->base || !s->cur) {
        sc_pair_sampler_free(s);
        return sc_fail("out of memory");
    }
    memcpy(s->base, list->p, sizeof *s->base * (size_t)s->n);
    return sc_pair_sampler_seek(s, 0, 0);
}

int sc_pair_sampler_balanced(sc_pair_sampler *s, const sc_lfw *lfw, const sc_people *train,
                             int pairs_per_epoch, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    int n = train ? train->n : lfw->n_people;
    s->people = malloc(sizeof *s->people * (size_t)(n ? n : 1));
    s->multi = malloc(sizeof *s->multi * (size_t)(n ? n : 1));
    if (!s->people || !s->multi) {
        sc_pair_sampler_free(s);
        return sc_fail("out of memory");
    }
    long images = 0;
    for (int i = 0; i < n; i++) {
        int p = train ? train->person[i] : i;
        if (p < 0 || p >= lfw->n_people) {
            sc_pair_sampler_free(s);
            return sc_fail("pair sampler: person id %d outside the index", p);
        }
        s->people[s->n_people++] = p;
        if (lfw->people[p].count >= 2)
            s->multi[s->n_multi++] = p;
        images += lfw->people[p].count;
    }
    if (s->n_people < 2 || s->n_multi < 1) {
        int np = s->n_people, nm = s->n_multi;
        sc_pair_sampler_free(s);
        return sc_fail("balanced pairs need at least 2 training people and one with 2+ images "
                       "(have %d people, %d with 2+ images)", np, nm);
    }
    if (pairs_per_epoch <= 0)
        pairs_per_epoch = images > 100000000 ? 100000000 : (int)images;
    if (pairs_per_epoch < 2)
        pairs_per_epoch = 2;
    s->mode = SC_PAIRS_BALANCED;
    s->seed = seed;
    s->lfw = lfw;
    s->n = pairs_per_epoch;
    s->cur = malloc(sizeof *s->cur * (size_t)s->n);
    if (!s->cur) {
        sc_pair_sampler_free(s);
        return sc_fail("out of memory for %d pairs", pairs_per_epoch);
    }
    return sc_pair_sampler_seek(s, 0, 0);
}

int sc_pair_sampler_next(sc_pair_sampler *s, int b, int *ids, float *y)
{
    if (b <= 0)
        return sc_fail("pair batch size %d must be positive", b);
    if (!s->cur)
        return sc_fail("pair sampler not initialised");
    for (int i = 0; i < b; i++) {
        if (s->pos >= s->n) {
            s->epoch++;
            fill_epoch(s);
            s->pos = 0;
        }
        const sc_pair *p = &s->cur[s->pos++];
        ids[i] = p->a;
        ids[b + i] = p->b;
        y[i] = (float)p->y;
    }
    return SC_OK;
}

void sc_pair_sampler_free(sc_pair_sampler *s)
{
    if (!s)
        return;
    free(s->base);
    free(s->cur);
    free(s->people);
    free(s->multi);
    memset(s, 0, sizeof *s);
}
