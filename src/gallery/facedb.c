/* The facedb commands on the library side: enroll, verify, identify, each one transaction.
 * Photos are embedded before any transaction starts, so the write lock is held only for the
 * inserts (milliseconds), never while the network runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/gallery_store.h"

int sc_facedb_enroll_embeddings(sc_store *st, const sc_model_info *info, const char *model_name,
                                const char *name, const float *emb, const uint64_t *hashes,
                                int n, int add_to_existing, sc_enroll_result *r)
{
    memset(r, 0, sizeof *r);
    if (n < 1)
        return sc_fail("enroll %s: no photos", name);
    SC_TRY(sc_person_name_check(name));
    SC_TRY(sc_store_begin(st, 1));
    int rc = sc_store_bind_model(st, info, model_name);
    int found = rc == SC_OK ? sc_store_person_find(st, name, &r->person) : SC_ERR;
    if (found == 1 && !add_to_existing)
        rc = sc_fail("%s is already enrolled (add photos with --add, or remove them first)",
                     name);
    else if (found == 0) {
        rc = sc_store_person_add(st, name, &r->person);
        r->created = rc == SC_OK;
    } else if (found < 0)
        rc = SC_ERR;
    for (int i = 0; i < n && rc == SC_OK; i++) {
        int dup = 0;
        rc = sc_store_template_add(st, r->person, emb + (size_t)i * info->dim, info->dim,
                                   info->fingerprint, hashes[i], &dup);
        r->added += !dup;
        r->duplicates += dup;
    }
    if (rc == SC_OK)
        rc = sc_store_commit(st);
    if (rc != SC_OK) {
        sc_store_rollback(st);
        memset(r, 0, sizeof *r);
    }
    return rc;
}

int sc_facedb_enroll(sc_store *st, sc_embedder *em, const char *name, const char *const *photos,
                     int n, int add_to_existing, sc_enroll_result *r)
{
    memset(r, 0, sizeof *r);
    SC_TRY(sc_person_name_check(name));
    if (n < 1)
        return sc_fail("enroll %s: no photos given", name);
    /* Cheap refusals first, before the network runs. */
    SC_TRY(sc_store_check_model(st, &em->info, em->model_path));
    float *emb;
    uint64_t *hashes;
    SC_TRY(sc_facedb_embed_photos(em, name, photos, n, &emb, &hashes));
    int rc = sc_facedb_enroll_embeddings(st, &em->info, em->model_path, name, emb, hashes, n,
                                         add_to_existing, r);
    free(emb), free(hashes);
    return rc;
}

int sc_facedb_embed_photos(sc_embedder *em, const char *name, const char *const *photos, int n,
                           float **emb, uint64_t **hashes)
{
    *emb = malloc(sizeof **emb * (size_t)n * em->dim);
    *hashes = malloc(sizeof **hashes * (size_t)n);
    int rc = *emb && *hashes ? SC_OK : sc_fail("out of memory");
    if (rc == SC_OK && sc_embed_images(em, photos, n, *emb, *hashes) != SC_OK)
        rc = sc_fail_context("enroll %s: nothing enrolled", name);
    if (rc != SC_OK) {
        free(*emb), free(*hashes);
        *emb = NULL, *hashes = NULL;
    }
    return rc;
}

int sc_facedb_verify(sc_store *st, sc_embedder *em, const char *const *names,
                     const char *const *photos, int n, double threshold, sc_verify_result *r)
{
    if (n < 1)
        return sc_fail("verify: no claims");
    float *q = malloc(sizeof *q * (size_t)n * em->dim);
    if (!q)
        return sc_fail("out of memory");
    int rc = sc_store_check_model(st, &em->info, em->model_path);
    if (rc == SC_OK)
        rc = sc_embed_images(em, photos, n, q, NULL);
    if (rc == SC_OK)
        rc = sc_store_begin(st, 0);
    if (rc != SC_OK) {
        free(q);
        return SC_ERR;
    }
    rc = sc_store_check_model(st, &em->info, em->model_path); /* inside the snapshot */
    for (int i = 0; i < n && rc == SC_OK; i++) {
        long long id;
        r[i] = (sc_verify_result){0, 0, INFINITY};
        int found = sc_store_person_find(st, names[i], &id);
        if (found < 0) {
            rc = SC_ERR;
            break;
        }
        if (!found)
            continue;
        float *t;
        int nt;
        rc = sc_store_person_templates(st, id, em->dim, &t, &nt);
        if (rc != SC_OK)
            break;
        r[i].known = nt > 0; /* exact distance to the nearest template, in double */
        for (int j = 0; j < nt; j++) {
            double s = 0;
            for (int d = 0; d < em->dim; d++) {
                double v = (double)q[(size_t)i * em->dim + d] - t[(size_t)j * em->dim + d];
                s += v * v;
            }
            if (sqrt(s) < r[i].distance)
                r[i].distance = sqrt(s);
        }
        r[i].accept = r[i].known && r[i].distance <= threshold;
        free(t);
    }
    if (rc == SC_OK)
        rc = sc_store_commit(st);
    else
        sc_store_rollback(st);
    free(q);
    return rc;
}

int sc_facedb_identify(sc_store *st, sc_embedder *em, const char *const *photos, int n, int k,
                       sc_gallery *g, sc_match *out, int *found)
{
    SC_TRY(sc_gallery_init(g, em->ctx, em->dim));
    float *q = malloc(sizeof *q * (size_t)n * em->dim);
    if (!q)
        return sc_fail("out of memory");
    int rc = sc_store_check_model(st, &em->info, em->model_path);
    if (rc == SC_OK)
        rc = sc_embed_images(em, photos, n, q, NULL);
    if (rc == SC_OK)
        rc = sc_store_begin(st, 0);
    if (rc == SC_OK) {
        rc = sc_store_check_model(st, &em->info, em->model_path);
        if (rc == SC_OK)
            rc = sc_store_load(st, g);
        if (rc == SC_OK)
            rc = sc_store_commit(st);
        else
            sc_store_rollback(st);
    }
    if (rc == SC_OK)
        rc = sc_gallery_identify(g, q, n, k, out, found);
    free(q);
    return rc;
}
