/* The LFW identity index from lfw-names.txt: person ids, image ids, lookups, paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lines.h"
#include "siamcl/lfw.h"

typedef struct name_ref {
    const char *name;
    int id, line;
} name_ref;

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

void sc_lfw_close(sc_lfw *lfw)
{
    if (!lfw)
        return;
    for (int i = 0; i < lfw->n_people && lfw->people; i++)
        free(lfw->people[i].name);
    free(lfw->people);
    free(lfw->image_person);
    free(lfw->by_name);
    free(lfw->root);
    memset(lfw, 0, sizeof *lfw);
}

static int add_person(sc_lfw *lfw, int *cap, const char *name, int count)
{
    if (lfw->n_people == *cap) {
        int nc = *cap ? 2 * *cap : 1024;
        sc_lfw_person *p = realloc(lfw->people, sizeof *p * (size_t)nc);
        if (!p)
            return sc_fail("out of memory reading the LFW index");
        lfw->people = p;
        *cap = nc;
    }
    char *copy = strdup(name);
    if (!copy)
        return sc_fail("out of memory reading the LFW index");
    lfw->people[lfw->n_people++] = (sc_lfw_person){copy, lfw->n_images, count};
    lfw->n_images += count;
    return SC_OK;
}

/* Duplicate names would make lookups ambiguous; the message names both lines. */
static int build_lookup(sc_lfw *lfw, const int *lines, const char *path)
{
    name_ref *refs = malloc(sizeof *refs * (size_t)(lfw->n_people ? lfw->n_people : 1));
    lfw->by_name = malloc(sizeof *lfw->by_name * (size_t)(lfw->n_people ? lfw->n_people : 1));
    if (!refs || !lfw->by_name) {
        free(refs);
        return sc_fail("out of memory reading the LFW index");
    }
    for (int i = 0; i < lfw->n_people; i++)
        refs[i] = (name_ref){lfw->people[i].name, i, lines[i]};
    qsort(refs, (size_t)lfw->n_people, sizeof *refs, cmp_ref);
    for (int i = 0; i < lfw->n_people; i++) {
        if (i > 0 && strcmp(refs[i - 1].name, refs[i].name) == 0) {
            int rc = sc_fail("%s:%d: person '%s' is listed again (first on line %d)", path,
                             refs[i].line > refs[i - 1].line ? refs[i].line : refs[i - 1].line,
                             refs[i].name,
                             refs[i].line < refs[i - 1].line ? refs[i].line : refs[i - 1].line);
            free(refs);
            return rc;
        }
        lfw->by_name[i] = refs[i].id;
    }
    free(refs);
    return SC_OK;
}

static int check_files(const sc_lfw *lfw, const int *lines, const char *path)
{
    size_t rl = strlen(lfw->root);
    char *buf = malloc(rl + 2 * 256 + 32);
    if (!buf)
        return sc_fail("out of memory");
    for (int p = 0; p < lfw->n_people; p++) {
        for (int k = 0; k < lfw->people[p].count; k++) {
            struct stat st;
            memcpy(buf, lfw->root, rl);
            buf[rl] = '/';
            sc_lfw_image_relpath(lfw, lfw->people[p].first + k, buf + rl + 1, 2 * 256 + 30);
            if (stat(buf, &st) != 0 || !S_ISREG(st.st_mode)) {
                int rc = sc_fail("%s:%d: %s has %d images but %s is missing", path, lines[p],
                                 lfw->people[p].name, lfw->people[p].count, buf);
                free(buf);
                return rc;
            }
        }
    }
    free(buf);
    return SC_OK;
}

int sc_lfw_open(sc_lfw *lfw, const char *root, unsigned flags)
{
    memset(lfw, 0, sizeof *lfw);
    if (!root || !*root)
        return sc_fail("no LFW folder given (set LFW_DIR or the config's data root)");
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return sc_fail("LFW folder '%s' does not exist (see data/README.md to get LFW)", root);
    lfw->root = strdup(root);
    size_t rl = strlen(root);
    while (rl > 1 && lfw->root && lfw->root[rl - 1] == '/')
        lfw->root[--rl] = '\0';
    char path[4096];
    if (!lfw->root || sc_lfw_list_path(lfw, "lfw-names.txt", path, sizeof path) != SC_OK) {
        sc_lfw_close(lfw);
        return lfw->root ? SC_ERR : sc_fail("out of memory");
    }
    sc_lines L;
    if (sc_lines_open(&L, path) != SC_OK) {
        sc_lfw_close(lfw);
        return SC_ERR;
    }
    int cap = 0, lcap = 0, *lines = NULL, rc = SC_OK;
    char *f[SC_LINE_FIELDS];
    int nf, blank_at = 0;
    while (rc == SC_OK && sc_lines_next(&L, f, &nf)) {
        if (nf == 0) {
            if (!blank_at)
                blank_at = L.line;
            continue;
        }
        if (blank_at) {
            rc = sc_fail("%s:%d: empty line inside the list", path, blank_at);
            break;
        }
        if (nf != 2) {
            rc = sc_lines_fail(&L, "expected 'name<TAB>count', found %s%d fields",
                               nf > SC_LINE_FIELDS ? "more than " : "",
                               nf > SC_LINE_FIELDS ? SC_LINE_FIELDS : nf);
            break;
        }
        int count;
        if ((rc = sc_lines_name(&L, f[0])) != SC_OK ||
            (rc = sc_lines_int(&L, f[1], 1, 100000, "image count", &count)) != SC_OK)
            break;
        if (lfw->n_images > 100000000 - count) {
            rc = sc_lines_fail(&L, "too many images in total");
            break;
        }
        if (lfw->n_people == lcap) {
            lcap = lcap ? 2 * lcap : 1024;
            int *nl = realloc(lines, sizeof *nl * (size_t)lcap);
            if (!nl) {
                rc = sc_fail("out of memory");
                break;
            }
            lines = nl;
        }
        lines[lfw->n_people] = L.line;
        rc = add_person(lfw, &cap, f[0], count);
    }
    if (rc == SC_OK && lfw->n_people == 0)
        rc = sc_fail("%s: no people listed", path);
    if (rc == SC_OK) {
        lfw->image_person = malloc(sizeof *lfw->image_person * (size_t)lfw->n_images);
        if (!lfw->image_person)
            rc = sc_fail("out of memory");
        for (int p = 0; rc == SC_OK && p < lfw->n_people; p++)
            for (int k = 0; k < lfw->people[p].count; k++)
                lfw->image_person[lfw->people[p].first + k] = p;
    }
    if (rc == SC_OK)
        rc = build_lookup(lfw, lines, path);
    if (rc == SC_OK && !(flags & SC_LFW_NO_FILE_CHECK))
        rc = check_files(lfw, lines, path);
    free(lines);
    sc_lines_close(&L);
    if (rc != SC_OK)
        sc_lfw_close(lfw);
    return rc;
}

int sc_lfw_find(const sc_lfw *lfw, const char *name)
{
    int lo = 0, hi = lfw->n_people - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, id = lfw->by_name[mid];
        int c = strcmp(name, lfw->people[id].name);
        if (c == 0)
            return id;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

int sc_lfw_image(const sc_lfw *lfw, int person, int number)
{
    if (person < 0 || person >= lfw->n_people || number < 1 || number > lfw->people[person].count)
        return -1;
    return lfw->people[person].first + number - 1;
}

int sc_lfw_image_relpath(const sc_lfw *lfw, int id, char *buf, size_t size)
{
    if (id < 0 || id >= lfw->n_images)
        return sc_fail("image id %d outside 0..%d", id, lfw->n_images - 1);
    const sc_lfw_person *p = &lfw->people[lfw->image_person[id]];
    int n = snprintf(buf, size, "%s/%s_%04d.jpg", p->name, p->name, id - p->first + 1);
    if (n < 0 || (size_t)n >= size)
        return sc_fail("path of image %d does not fit %zu bytes", id, size);
    return SC_OK;
}

int sc_lfw_list_path(const sc_lfw *lfw, const char *list, char *buf, size_t size)
{
    int n = strchr(list, '/') ? snprintf(buf, size, "%s", list)
                              : snprintf(buf, size, "%s/%s", lfw->root, list);
    if (n < 0 || (size_t)n >= size)
        return sc_fail("list path '%s' is too long", list);
    return SC_OK;
}
