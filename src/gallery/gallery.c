/* Templates of named people: a host copy (exact distances, verification) and the device index
 * (1:N search). A person may have several templates; identification reports each person once,
 * at the distance of their nearest template. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/gallery.h"
#include "siamcl/ops_topk.h"

int sc_gallery_init(sc_gallery *g, sc_ctx *ctx, int dim)
{
    memset(g, 0, sizeof *g);
    g->dim = dim;
    return sc_index_init(&g->index, ctx, dim);
}

void sc_gallery_free(sc_gallery *g)
{
    if (!g)
        return;
    for (int p = 0; p < g->npeople; p++)
        free(g->names[p]);
    free(g->names), free(g->ids), free(g->count);
    free(g->emb), free(g->person);
    sc_index_free(&g->index);
    memset(g, 0, sizeof *g);
}

static int next_cap(int cap, int need)
{
    int c = cap ? cap : 64;
    while (c < need)
        c = c > (1 << 29) ? need : 2 * c;
    return c;
}

static int realloc_to(void *pp, size_t bytes)
{
    void **p = pp, *q = realloc(*p, bytes ? bytes : 1);
    if (!q)
        return sc_fail("out of host memory for the gallery (%zu bytes)", bytes);
    *p = q;
    return SC_OK;
}

int sc_gallery_add(sc_gallery *g, const char *name, long long id, const float *emb, int n)
{
    if (n < 1)
        return sc_fail("gallery: %s has no templates", name);
    for (size_t i = 0; i < (size_t)n * g->dim; i++)
        if (!isfinite(emb[i]))
            return sc_fail("gallery: template %zu of %s has a non-finite value (a broken "
                           "embedding)", i / g->dim + 1, name);
    if (g->npeople + 1 > g->pcap) {
        int c = next_cap(g->pcap, g->npeople + 1);
        SC_TRY(realloc_to(&g->names, sizeof *g->names * (size_t)c));
        SC_TRY(realloc_to(&g->ids, sizeof *g->ids * (size_t)c));
        SC_TRY(realloc_to(&g->count, sizeof *g->count * (size_t)c));
        g->pcap = c;
    }
    if (g->n + n > g->cap) {
        int c = next_cap(g->cap, g->n + n);
        SC_TRY(realloc_to(&g->person, sizeof *g->person * (size_t)c));
        SC_TRY(realloc_to(&g->emb, sizeof *g->emb * (size_t)c * g->dim));
        g->cap = c;
    }
    char *copy = strdup(name);
    if (!copy)
        return sc_fail("out of host memory");
    int p = g->npeople++;
    g->names[p] = copy;
    g->ids[p] = id;
    g->count[p] = n;
    memcpy(g->emb + (size_t)g->n * g->dim, emb, sizeof *emb * (size_t)n * g->dim);
    for (int i = 0; i < n; i++)
        g->person[g->n + i] = p;
    g->n += n;
    if (n > g->max_templates)
        g->max_templates = n;
    return SC_OK;
}

/* Rows reach the device in one upload before the next search, not one call per person. */
static int sync_index(sc_gallery *g)
{
    int pending = g->n - g->index.n;
    return pending > 0 ? sc_index_add(&g->index, g->emb + (size_t)g->index.n * g->dim, pending)
                       : SC_OK;
}

int sc_gallery_find(const sc_gallery *g, const char *name)
{
    for (int p = 0; p < g->npeople; p++)
        if (strcmp(g->names[p], name) == 0)
            return p;
    return -1;
}

static double exact_distance(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++) {
        double t = (double)a[d] - (double)b[d];
        s += t * t;
    }
    return sqrt(s);
}

double sc_gallery_distance(const sc_gallery *g, int person, const float *q)
{
    double best = INFINITY;
    for (int i = 0; i < g->n; i++)
        if (g->person[i] == person) {
            double d = exact_distance(q, g->emb + (size_t)i * g->dim, g->dim);
            if (d < best)
                best = d;
        }
    return best;
}

static int by_person_then_distance(const void *a, const void *b)
{
    const sc_match *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return x->distance < y->distance ? -1 : x->distance > y->distance;
}

static int by_distance(const void *a, const void *b)
{
    const sc_match *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return x->person < y->person ? -1 : x->person > y->person; /* ties: the earlier enrolled */
}

int sc_gallery_identify(sc_gallery *g, const float *q, int nq, int k, sc_match *out,
                        int *found)
{
    if (k < 1)
        return sc_fail("identify: k = %d (need at least 1)", k);
    if (nq <= 0)
        return SC_OK;
    if (g->n == 0) {
        for (int i = 0; i < nq; i++)
            found[i] = 0;
        return SC_OK;
    }
    /* Enough template rows that k distinct people come back even when the nearest rows
     * belong to people with many templates. */
    long long want = (long long)k * (g->max_templates > 0 ? g->max_templates : 1);
    int kr = want > SC_TOPK_MAX_K ? SC_TOPK_MAX_K : (int)want;
    if (kr > g->n)
        kr = g->n;
    int *idx = malloc(sizeof *idx * (size_t)nq * kr);
    float *dist = malloc(sizeof *dist * (size_t)nq * kr);
    sc_match *m = malloc(sizeof *m * (size_t)kr);
    int rc = idx && dist && m ? SC_OK : sc_fail("out of host memory");
    if (rc == SC_OK)
        rc = sync_index(g);
    if (rc == SC_OK)
        rc = sc_index_search(&g->index, q, nq, kr, idx, dist);
    for (int i = 0; rc == SC_OK && i < nq; i++) {
        const float *qi = q + (size_t)i * g->dim;
        int c = 0;
        for (int j = 0; j < kr; j++) {
            int r = idx[(size_t)i * kr + j];
            if (r < 0)
                break;
            /* the device's distance is for ranking; report the exact one */
            m[c].person = g->person[r];
            m[c++].distance = exact_distance(qi, g->emb + (size_t)r * g->dim, g->dim);
        }
        qsort(m, (size_t)c, sizeof *m, by_person_then_distance);
        int u = 0;
        for (int j = 0; j < c; j++)
            if (u == 0 || m[u - 1].person != m[j].person)
                m[u++] = m[j];
        qsort(m, (size_t)u, sizeof *m, by_distance);
        found[i] = u < k ? u : k;
        memcpy(out + (size_t)i * k, m, sizeof *m * (size_t)found[i]);
    }
    free(idx), free(dist), free(m);
    return rc;
}
