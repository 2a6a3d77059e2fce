/* The official LFW lists: pairs (View 1 and View 2) and people. The matched/mismatched ->
 * SC_SAME/SC_DIFFERENT conversion happens here and nowhere else. */
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "siamcl/lfw.h"

static int next_line(sc_lines *L, char **f, int *nf, const char *expect)
{
    if (!sc_lines_next(L, f, nf))
        return sc_fail("%s:%d: the list ends early: expected %s", L->path, L->line + 1, expect);
    if (*nf == 0)
        return sc_lines_fail(L, "empty line where %s was expected", expect);
    return SC_OK;
}

static int fields_fail(sc_lines *L, int nf, const char *expect)
{
    if (nf > SC_LINE_FIELDS)
        return sc_lines_fail(L, "expected %s, found more than %d fields", expect, SC_LINE_FIELDS);
    return sc_lines_fail(L, "expected %s, found %d field%s", expect, nf, nf == 1 ? "" : "s");
}

/* name + 1-based image number -> image id, with the person checked first. */
static int image_ref(sc_lines *L, const sc_lfw *lfw, const char *name, const char *num, int *id,
                     int *person)
{
    SC_TRY(sc_lines_name(L, name));
    int p = sc_lfw_find(lfw, name);
    if (p < 0)
        return sc_lines_fail(L, "unknown person '%s' (not in lfw-names.txt)", name);
    int k;
    SC_TRY(sc_lines_int(L, num, 0, 1000000000, "image number", &k));
    if (k < 1 || k > lfw->people[p].count)
        return sc_lines_fail(L, "image %d of '%s' does not exist (%d image%s)", k, name,
                             lfw->people[p].count, lfw->people[p].count == 1 ? "" : "s");
    *id = sc_lfw_image(lfw, p, k);
    *person = p;
    return SC_OK;
}

static int parse_pair(sc_lines *L, const sc_lfw *lfw, int matched, sc_pair *out)
{
    char *f[SC_LINE_FIELDS];
    int nf, pa, pb;
    const char *expect = matched ? "a matched pair 'name<TAB>i<TAB>j'"
                                 : "a mismatched pair 'name1<TAB>i<TAB>name2<TAB>j'";
    SC_TRY(next_line(L, f, &nf, expect));
    if (nf != (matched ? 3 : 4))
        return fields_fail(L, nf, expect);
    if (matched) {
        SC_TRY(image_ref(L, lfw, f[0], f[1], &out->a, &pa));
        SC_TRY(image_ref(L, lfw, f[0], f[2], &out->b, &pb));
        if (out->a == out->b)
            return sc_lines_fail(L, "matched pair uses the same image twice");
        out->y = SC_SAME;
    } else {
        SC_TRY(image_ref(L, lfw, f[0], f[1], &out->a, &pa));
        SC_TRY(image_ref(L, lfw, f[2], f[3], &out->b, &pb));
        if (pa == pb)
            return sc_lines_fail(L, "mismatched pair names the same person twice");
        out->y = SC_DIFFERENT;
    }
    return SC_OK;
}

int sc_lfw_pairs_load(const sc_lfw *lfw, const char *list, sc_pairs *out)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    SC_TRY(sc_lfw_list_path(lfw, list, path, sizeof path));
    sc_lines L;
    SC_TRY(sc_lines_open(&L, path));
    char *f[SC_LINE_FIELDS];
    int nf, folds = 1, n = 0, rc = next_line(&L, f, &nf, "the header 'N' or 'folds<TAB>N'");
    if (rc == SC_OK) {
        if (nf == 1)
            rc = sc_lines_int(&L, f[0], 1, 1000000, "pair count", &n);
        else if (nf == 2) {
            rc = sc_lines_int(&L, f[0], 1, 100, "fold count", &folds);
            if (rc == SC_OK)
                rc = sc_lines_int(&L, f[1], 1, 1000000, "pairs per fold", &n);
        } else
            rc = fields_fail(&L, nf, "the header 'N' or 'folds<TAB>N'");
    }
    if (rc == SC_OK) {
        out->p = malloc(sizeof *out->p * (size_t)folds * 2 * (size_t)n);
        if (!out->p)
            rc = sc_fail("%s: out of memory for %d pairs", path, folds * 2 * n);
    }
    for (int fold = 0; rc == SC_OK && fold < folds; fold++)
        for (int k = 0; rc == SC_OK && k < 2 * n; k++) {
            sc_pair *p = &out->p[out->n];
            rc = parse_pair(&L, lfw, k < n, p);
            p->fold = fold;
            if (rc == SC_OK)
                out->n++;
        }
    if (rc == SC_OK)
        rc = sc_lines_expect_end(&L);
    sc_lines_close(&L);
    if (rc != SC_OK) {
        sc_pairs_free(out);
        return SC_ERR;
    }
    out->folds = folds;
    return SC_OK;
}

void sc_pairs_free(sc_pairs *p)
{
    if (!p)
        return;
    free(p->p);
    memset(p, 0, sizeof *p);
}

int sc_pairs_fold(const sc_pairs *all, int fold, int keep, sc_pairs *out)
{
    memset(out, 0, sizeof *out);
    if (fold < 0 || fold >= all->folds)
        return sc_fail("fold %d outside 0..%d", fold, all->folds - 1);
    out->p = malloc(sizeof *out->p * (size_t)(all->n ? all->n : 1));
    if (!out->p)
        return sc_fail("out of memory");
    for (int i = 0; i < all->n; i++)
        if ((all->p[i].fold == fold) == (keep != 0))
            out->p[out->n++] = all->p[i];
    out->folds = all->folds;
    return SC_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int sc_pairs_images(const sc_pairs *p, int **ids, int *n)
{
    *n = 0;
    *ids = malloc(sizeof **ids * (size_t)(2 * p->n + 1));
    if (!*ids)
        return sc_fail("out of memory");
    for (int i = 0; i < p->n; i++) {
        (*ids)[2 * i] = p->p[i].a;
        (*ids)[2 * i + 1] = p->p[i].b;
    }
    qsort(*ids, (size_t)(2 * p->n), sizeof **ids, cmp_int);
    int m = 0;
    for (int i = 0; i < 2 * p->n; i++)
        if (m == 0 || (*ids)[m - 1] != (*ids)[i])
            (*ids)[m++] = (*ids)[i];
    *n = m;
    return SC_OK;
}

/* ---- people ------------------------------------------------------------------------------ */

static int people_entry(sc_lines *L, const sc_lfw *lfw, char **f, int nf, unsigned char *seen,
                        int *person)
{
    const char *expect = "'name<TAB>image count'";
    if (nf != 2)
        return fields_fail(L, nf, expect);
    SC_TRY(sc_lines_name(L, f[0]));
    int p = sc_lfw_find(lfw, f[0]);
    if (p < 0)
        return sc_lines_fail(L, "unknown person '%s' (not in lfw-names.txt)", f[0]);
    int count;
    SC_TRY(sc_lines_int(L, f[1], 1, 1000000000, "image count", &count));
    if (count != lfw->people[p].count)
        return sc_lines_fail(L, "'%s' has %d images here but %d in lfw-names.txt", f[0], count,
                             lfw->people[p].count);
    if (seen[p])
        return sc_lines_fail(L, "person '%s' is listed twice", f[0]);
    seen[p] = 1;
    *person = p;
    return SC_OK;
}

static void people_push(sc_people *out, int person, int fold)
{
    out->person[out->n] = person;
    out->fold[out->n] = fold;
    out->n++;
}

int sc_lfw_people_load(const sc_lfw *lfw, const char *list, sc_people *out)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    SC_TRY(sc_lfw_list_path(lfw, list, path, sizeof path));
    sc_lines L;
    SC_TRY(sc_lines_open(&L, path));
    unsigned char *seen = calloc((size_t)lfw->n_people, 1);
    out->person = malloc(sizeof *out->person * (size_t)lfw->n_people);
    out->fold = malloc(sizeof *out->fold * (size_t)lfw->n_people);
    int rc = seen && out->person && out->fold ? SC_OK : sc_fail("out of memory");
    char *f[SC_LINE_FIELDS];
    int nf, first = 0;
    if (rc == SC_OK)
        rc = next_line(&L, f, &nf, "a count");
    if (rc == SC_OK)
        rc = nf == 1 ? sc_lines_int(&L, f[0], 1, lfw->n_people, "count", &first)
                     : fields_fail(&L, nf, "a count");
    /* The second line decides the layout: a lone number is the first fold's size
     * (people.txt), a name line is the first entry of a single list (peopleDev*.txt). */
    if (rc == SC_OK)
        rc = next_line(&L, f, &nf, "a fold size or 'name<TAB>image count'");
    int fold_layout = rc == SC_OK && nf == 1, folds = fold_layout ? first : 1;
    for (int fold = 0; rc == SC_OK && fold < folds; fold++) {
        int count = first;
        if (fold_layout) {
            if (fold > 0)
                rc = next_line(&L, f, &nf, "a fold size");
            if (rc == SC_OK)
                rc = nf == 1 ? sc_lines_int(&L, f[0], 1, lfw->n_people, "fold size", &count)
                             : fields_fail(&L, nf, "a fold size");
            if (rc == SC_OK && count > lfw->n_people - out->n)
                rc = sc_lines_fail(&L, "fold size %d is more than the people left", count);
        }
        for (int k = 0; rc == SC_OK && k < count; k++) {
            if (k > 0 || fold_layout)
                rc = next_line(&L, f, &nf, "'name<TAB>image count'");
            int p = -1;
            if (rc == SC_OK)
                rc = people_entry(&L, lfw, f, nf, seen, &p);
            if (rc == SC_OK)
                people_push(out, p, fold);
        }
    }
    if (rc == SC_OK)
        rc = sc_lines_expect_end(&L);
    sc_lines_close(&L);
    free(seen);
    if (rc != SC_OK) {
        sc_people_free(out);
        return SC_ERR;
    }
    out->folds = folds;
    return SC_OK;
}

static int people_alloc(sc_people *out, int n)
{
    memset(out, 0, sizeof *out);
    out->person = malloc(sizeof *out->person * (size_t)(n ? n : 1));
    out->fold = malloc(sizeof *out->fold * (size_t)(n ? n : 1));
    if (!out->person || !out->fold) {
        sc_people_free(out);
        return sc_fail("out of memory");
    }
    return SC_OK;
}

int sc_people_all(const sc_lfw *lfw, sc_people *out)
{
    SC_TRY(people_alloc(out, lfw->n_people));
    for (int p = 0; p < lfw->n_people; p++)
        people_push(out, p, 0);
    out->folds = 1;
    return SC_OK;
}

int sc_people_select(const sc_people *all, uint32_t fold_mask, sc_people *out)
{
    SC_TRY(people_alloc(out, all->n));
    for (int i = 0; i < all->n; i++)
        if (all->fold[i] < 32 && (fold_mask >> all->fold[i] & 1u))
            people_push(out, all->person[i], all->fold[i]);
    out->folds = all->folds;
    return SC_OK;
}

void sc_people_free(sc_people *p)
{
    if (!p)
        return;
    free(p->person);
    free(p->fold);
    memset(p, 0, sizeof *p);
}

int sc_people_overlap(const sc_lfw *lfw, const sc_people *a, const sc_people *b)
{
    unsigned char *in = calloc((size_t)lfw->n_people, 1);
    if (!in)
        return sc_fail("out of memory");
    int both = 0;
    for (int i = 0; i < a->n; i++)
        in[a->person[i]] = 1;
    for (int i = 0; i < b->n; i++)
        both += in[b->person[i]];
    free(in);
    return both;
}

int sc_pairs_outside(const sc_lfw *lfw, const sc_pairs *pairs, const sc_people *allowed)
{
    unsigned char *in = calloc((size_t)lfw->n_people, 1);
    if (!in)
        return sc_fail("out of memory");
    for (int i = 0; i < allowed->n; i++)
        in[allowed->person[i]] = 1;
    int out = 0;
    for (int i = 0; i < pairs->n; i++)
        out += !in[lfw->image_person[pairs->p[i].a]] || !in[lfw->image_person[pairs->p[i].b]];
    free(in);
    return out;
}

int sc_people_images(const sc_lfw *lfw, const sc_people *people, int **ids, int *n)
{
    *n = 0;
    unsigned char *in = calloc((size_t)lfw->n_people, 1);
    *ids = malloc(sizeof **ids * (size_t)(lfw->n_images ? lfw->n_images : 1));
    if (!in || !*ids) {
        free(in);
        free(*ids);
        *ids = NULL;
        return sc_fail("out of memory");
    }
    for (int i = 0; i < people->n; i++)
        if (people->person[i] >= 0 && people->person[i] < lfw->n_people)
            in[people->person[i]] = 1;
    for (int p = 0; p < lfw->n_people; p++)
        for (int k = 0; in[p] && k < lfw->people[p].count; k++)
            (*ids)[(*n)++] = lfw->people[p].first + k;
    free(in);
    return SC_OK;
}
