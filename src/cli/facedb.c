/* facedb: enroll people from one photo, verify a claimed identity, identify among everyone.
 * Argument parsing, printing and exit codes only; the work is in src/gallery. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "siamcl/gallery_store.h"
#include "siamcl/ops_topk.h"
#include "siamcl/runtime.h"

static const char usage[] =
    "usage: facedb --db FILE [--model CKPT] COMMAND [ARGS] [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  enroll NAME PHOTO...    enroll NAME from one or more photos (--add: add photos to\n"
    "                          someone already enrolled). The first enroll binds the store\n"
    "                          to its model (--model, else the default model).\n"
    "  verify NAME PHOTO       1:1: ACCEPT or REJECT the claim, with distance and threshold\n"
    "  identify PHOTO          1:N: the best --top K people, or UNKNOWN when even the best is\n"
    "                          beyond the threshold\n"
    "  list                    everyone enrolled\n"
    "  remove NAME             remove a person and their templates\n"
    "  rename OLD NEW          rename a person\n"
    "  check                   verify the store file's integrity\n"
    "  evaluate --lfw DIR [--model CKPT] [--people LIST] [--cache DIR]\n"
    "                          the whole system on LFW: enroll one image per test person with\n"
    "                          two or more, probe with their other images and with never\n"
    "                          enrolled people; rank-1, DIR at FAR 0.01/0.001, verification\n"
    "\n"
    "options:\n"
    "  --db FILE        the store (SQLite; created by the first enroll with mode 0600)\n"
    "  --model CKPT     checkpoint (default: the one the store was built with; for a new\n"
    "                   store $SIAMCL_MODEL, else " SIAMCL_DEFAULT_MODEL ",\n"
    "                   the model of configs/lfw_best.ini)\n"
    "  --far F          operating point: 0.001 (default), 0.01 or eer; picks the threshold\n"
    "                   calibrated when the model was trained (stored in the checkpoint)\n"
    "  --threshold T    accept when distance <= T (overrides --far)\n"
    "  --top K          identify: candidates to report (default 1)\n"
    "  --batch FILE     many queries at once: identify reads one photo per line, verify\n"
    "                   NAME<TAB>PHOTO lines (blank lines and # comments are skipped)\n"
    "  --json           machine-readable output on stdout\n"
    "  --device SEL     OpenCL device: index or name substring (default: $SIAMCL_DEVICE,\n"
    "                   first GPU, any device)\n"
    "\n"
    "exit status: 0 accepted / found / done, 1 rejected / unknown, 2 error\n";

enum { EXIT_YES = 0, EXIT_NO = 1, EXIT_ERR = 2 };

typedef struct args {
    const char *db, *model, *far, *device, *batch, *lfw, *people, *cache;
    double threshold; /* NAN: from the checkpoint */
    int top, json, add;
    int npos;
    const char **pos; /* command and its operands */
} args;

static int err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("facedb: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_ERR;
}

static int lib_err(void) { return err("%s", sc_last_error()); }

static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->threshold = NAN;
    a->top = 1;
    a->pos = calloc((size_t)argc, sizeof *a->pos);
    if (!a->pos)
        return err("out of memory");
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] != '-') {
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(s, "--help")) {
            fputs(usage, stdout);
            exit(EXIT_YES);
        }
        if (!strcmp(s, "--json")) {
            a->json = 1;
            continue;
        }
        if (!strcmp(s, "--add")) {
            a->add = 1;
            continue;
        }
        const char **str = !strcmp(s, "--db")      ? &a->db
                           : !strcmp(s, "--model")  ? &a->model
                           : !strcmp(s, "--far")    ? &a->far
                           : !strcmp(s, "--device") ? &a->device
                           : !strcmp(s, "--batch")  ? &a->batch
                           : !strcmp(s, "--lfw")    ? &a->lfw
                           : !strcmp(s, "--people") ? &a->people
                           : !strcmp(s, "--cache")  ? &a->cache
                                                    : NULL;
        int is_num = !strcmp(s, "--threshold") || !strcmp(s, "--top");
        if (!str && !is_num)
            return err("unknown option %s (facedb --help)", s);
        if (i + 1 >= argc)
            return err("%s needs a value (facedb --help)", s);
        const char *v = argv[++i];
        if (str) {
            *str = v;
        } else if (!strcmp(s, "--top")) {
            char *end;
            long k = strtol(v, &end, 10);
            if (*end || end == v || k < 1 || k > SC_TOPK_MAX_K)
                return err("--top %s: expected a whole number in 1..%d", v, SC_TOPK_MAX_K);
            a->top = (int)k;
        } else {
            char *end;
            double t = strtod(v, &end);
            if (*end || end == v || !isfinite(t) || t < 0)
                return err("--threshold %s: expected a distance (a number >= 0)", v);
            a->threshold = t;
        }
    }
    if (a->npos == 0)
        return err("no command given (facedb --help)");
    return EXIT_YES;
}

/* ---- JSON output ---------------------------------------------------------------------------- */

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.6g", v);
    else
        fputs("null", stdout);
}

/* ---- batch files ------------------------------------------------------------------------- */

typedef struct lines {
    char *text;
    int n;
    char **a, **b; /* first field, second field (NULL when one field) */
} lines;

static void lines_free(lines *l)
{
    free(l->text), free(l->a), free(l->b);
    memset(l, 0, sizeof *l);
}

/* fields = 1: a photo per line; 2: NAME<TAB>PHOTO. */
static int read_batch(const char *path, int fields, lines *l)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "rb");
    if (!f)
        return err("--batch %s: cannot open it", path);
    size_t cap = 0, len = 0;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = 2 * (len + got + 1);
            char *t = realloc(l->text, cap);
            if (!t) {
                fclose(f);
                lines_free(l);
                return err("out of memory");
            }
            l->text = t;
        }
        memcpy(l->text + len, buf, got);
        len += got;
    }
    fclose(f);
    if (!l->text)
        return err("--batch %s is empty", path);
    l->text[len] = '\0';
    int maxn = 1;
    for (size_t i = 0; i < len; i++)
        maxn += l->text[i] == '\n';
    l->a = calloc((size_t)maxn, sizeof *l->a);
    l->b = calloc((size_t)maxn, sizeof *l->b);
    if (!l->a || !l->b) {
        lines_free(l);
        return err("out of memory");
    }
    int lineno = 0;
    for (char *s = l->text; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r')
            s[--n] = '\0';
        if (n && s[0] != '#') {
            char *tab = strchr(s, '\t');
            if (fields == 2) {
                if (!tab || strchr(tab + 1, '\t') || tab == s || !tab[1]) {
                    lines_free(l);
                    return err("--batch %s:%d: expected NAME<TAB>PHOTO", path, lineno);
                }
                *tab = '\0';
                l->b[l->n] = tab + 1;
            }
            l->a[l->n++] = s;
        }
        s = nl ? nl + 1 : NULL;
    }
    if (l->n == 0) {
        lines_free(l);
        return err("--batch %s has no queries", path);
    }
    return EXIT_YES;
}

/* ---- shared setup ---------------------------------------------------------------------------- */

typedef struct session {
    sc_ctx *ctx;
    sc_store *st;
    sc_embedder em;
    int have_em;
} session;

static void session_close(session *s)
{
    if (s->have_em)
        sc_embedder_close(&s->em);
    sc_store_close(s->st);
    if (s->ctx)
        sc_ctx_destroy(s->ctx);
}

static int open_store(const args *a, session *s, unsigned flags)
{
    if (!a->db)
        return err("--db FILE is required for %s", a->pos[0]);
    if (sc_store_open(&s->st, a->db, flags) != SC_OK)
        return lib_err();
    if (sc_store_warning(s->st)[0])
        fprintf(stderr, "facedb: warning: %s\n", sc_store_warning(s->st));
    return EXIT_YES;
}

static int open_device(const args *a, session *s)
{
    if (sc_ctx_create(&s->ctx, a->device, 0) != SC_OK)
        return lib_err();
    if (s->ctx->warning[0])
        fprintf(stderr, "facedb: warning: %s\n", s->ctx->warning);
    return EXIT_YES;
}

/* The default model: $SIAMCL_MODEL, else the checkpoint of configs/lfw_best.ini shipped in
 * data/models/ (scripts/train_best.sh makes a new one). NULL, with the reason printed, when
 * that file is not there. */
static const char *default_model(void)
{
    const char *env = getenv("SIAMCL_MODEL");
    const char *path = env && *env ? env : SIAMCL_DEFAULT_MODEL;
    if (access(path, R_OK) != 0) {
        err("no --model given and the default model %s%s is not readable (%s): give --model "
            "CKPT, or train one with scripts/train_best.sh",
            path, env && *env ? " ($SIAMCL_MODEL)" : "", strerror(errno));
        return NULL;
    }
    return path;
}

/* The model: --model, else the checkpoint the store was built with, else (a new store) the
 * default model. Everything that can be refused without the device (a different model, a
 * missing threshold) is checked before the OpenCL context and the network are set up. */
static int open_model(const args *a, session *s)
{
    const char *path = a->model;
    sc_store_model sm;
    if (!path && !s->st) { /* no store yet (a first enroll) */
        if (!(path = default_model()))
            return EXIT_ERR;
    } else if (!path) {
        if (sc_store_get_model(s->st, &sm) != SC_OK)
            return lib_err();
        if (!sm.fingerprint[0] && !(path = default_model()))
            return EXIT_ERR;
        if (!path && !sm.name[0])
            return err("store %s does not record its checkpoint's path: give --model CKPT",
                       a->db);
        if (!path)
            path = sm.name;
    }
    /* Keep an absolute path: the store remembers it for commands run from elsewhere. */
    char cwd[512], full[2048];
    const char *name = path;
    if (path[0] != '/' && getcwd(cwd, sizeof cwd)) {
        int len = snprintf(full, sizeof full, "%s/%s", cwd, path);
        if (len > 0 && (size_t)len < sizeof s->em.model_path)
            name = full;
    }
    sc_ckpt ck;
    sc_model_info info;
    if (sc_ckpt_read(path, &ck) != SC_OK)
        return lib_err();
    int rc = EXIT_YES;
    if (sc_model_info_from_ckpt(&ck, &info) != SC_OK ||
        (s->st && sc_store_check_model(s->st, &info, name) != SC_OK))
        rc = lib_err();
    if (rc == EXIT_YES)
        rc = open_device(a, s);
    if (rc == EXIT_YES && sc_embedder_from_ckpt(&s->em, s->ctx, &ck, name, 32) != SC_OK)
        rc = lib_err();
    sc_ckpt_free(&ck);
    s->have_em = rc == EXIT_YES;
    return rc;
}

static int threshold_for(const args *a, const session *s, double *t)
{
    if (!isnan(a->threshold)) {
        *t = a->threshold;
        return EXIT_YES;
    }
    if (sc_model_threshold(&s->em.info, a->far ? a->far : "0.001", t) != SC_OK)
        return lib_err();
    return EXIT_YES;
}

static int need(const args *a, int min, int max, const char *form)
{
    int n = a->npos - 1;
    if (n < min || (max >= 0 && n > max))
        return err("usage: facedb --db FILE %s", form);
    return EXIT_YES;
}

/* ---- commands ----------------------------------------------------------------------------- */

static int cmd_enroll(const args *a, session *s)
{
    int rc;
    if ((rc = need(a, 2, -1, "enroll NAME PHOTO... [--add] [--model CKPT]")) != EXIT_YES)
        return rc;
    const char *name = a->pos[1];
    /* cheap refusals before the network is built (the transaction checks again) */
    if (sc_person_name_check(name) != SC_OK)
        return lib_err();
    if (!a->db)
        return err("--db FILE is required for enroll");
    /* A store that does not exist yet is created only once the photos are embedded, so a
     * missing model or a bad photo leaves no empty store behind. */
    if (access(a->db, F_OK) == 0) {
        if ((rc = open_store(a, s, SC_STORE_CREATE)) != EXIT_YES)
            return rc;
        int known = sc_store_person_find(s->st, name, NULL);
        if (known < 0)
            return lib_err();
        if (known && !a->add)
            return err("%s is already enrolled (add photos with --add, or remove them first)",
                       name);
    } else if (errno != ENOENT) {
        return err("store %s: %s", a->db, strerror(errno));
    }
    if ((rc = open_model(a, s)) != EXIT_YES)
        return rc;
    int n = a->npos - 2;
    float *emb;
    uint64_t *hashes;
    sc_enroll_result r;
    if (sc_facedb_embed_photos(&s->em, name, a->pos + 2, n, &emb, &hashes) != SC_OK)
        return lib_err();
    if (!s->st)
        rc = open_store(a, s, SC_STORE_CREATE);
    if (rc == EXIT_YES && sc_facedb_enroll_embeddings(s->st, &s->em.info, s->em.model_path, name,
                                                      emb, hashes, n, a->add, &r) != SC_OK)
        rc = lib_err();
    free(emb), free(hashes);
    if (rc != EXIT_YES)
        return rc;
    if (a->json) {
        printf("{\"command\": \"enroll\", \"name\": ");
        json_str(name);
        printf(", \"created\": %s, \"added\": %d, \"duplicates\": %d}\n",
               r.created ? "true" : "false", r.added, r.duplicates);
    } else {
        printf("%s %s: %d template%s added", r.created ? "enrolled" : "updated", name, r.added,
               r.added == 1 ? "" : "s");
        if (r.duplicates)
            printf(", %d photo%s already enrolled (skipped)", r.duplicates,
                   r.duplicates == 1 ? "" : "s");
        printf("\n");
    }
    return EXIT_YES;
}

static int cmd_verify(const args *a, session *s)
{
    int rc;
    lines l = {0};
    const char **names, **photos;
    int n;
    if (a->batch) {
        if ((rc = need(a, 0, 0, "verify --batch FILE")) != EXIT_YES)
            return rc;
        if ((rc = read_batch(a->batch, 2, &l)) != EXIT_YES)
            return rc;
        names = (const char **)l.a, photos = (const char **)l.b, n = l.n;
    } else {
        if ((rc = need(a, 2, 2, "verify NAME PHOTO")) != EXIT_YES)
            return rc;
        names = a->pos + 1, photos = a->pos + 2, n = 1;
    }
    double t;
    sc_verify_result *r = malloc(sizeof *r * (size_t)n);
    if (!r)
        rc = err("out of memory");
    if (rc == EXIT_YES)
        rc = open_store(a, s, SC_STORE_READONLY);
    if (rc == EXIT_YES)
        rc = open_model(a, s);
    if (rc == EXIT_YES)
        rc = threshold_for(a, s, &t);
    if (rc == EXIT_YES && sc_facedb_verify(s->st, &s->em, names, photos, n, t, r) != SC_OK)
        rc = lib_err();
    if (rc == EXIT_YES) {
        int all = 1;
        if (a->json)
            printf("{\"command\": \"verify\", \"threshold\": %.6g, \"results\": [", t);
        for (int i = 0; i < n; i++) {
            all &= r[i].accept;
            const char *d = r[i].accept ? "ACCEPT" : "REJECT";
            if (a->json) {
                printf("%s{\"name\": ", i ? ", " : "");
                json_str(names[i]);
                printf(", \"photo\": ");
                json_str(photos[i]);
                printf(", \"decision\": \"%s\", \"enrolled\": %s, \"distance\": ", d,
                       r[i].known ? "true" : "false");
                json_num(r[i].distance);
                printf("}");
            } else if (!r[i].known) {
                printf("REJECT %s: not enrolled (%s)\n", names[i], photos[i]);
            } else {
                printf("%s %s: distance %.4f, threshold %.4f (%s)\n", d, names[i], r[i].distance,
                       t, photos[i]);
            }
        }
        if (a->json)
            printf("]}\n");
        rc = all ? EXIT_YES : EXIT_NO;
    }
    free(r);
    lines_free(&l);
    return rc;
}

static int cmd_identify(const args *a, session *s)
{
    int rc;
    lines l = {0};
    const char **photos;
    int n;
    if (a->batch) {
        if ((rc = need(a, 0, 0, "identify --batch FILE [--top K]")) != EXIT_YES)
            return rc;
        if ((rc = read_batch(a->batch, 1, &l)) != EXIT_YES)
            return rc;
        photos = (const char **)l.a, n = l.n;
    } else {
        if ((rc = need(a, 1, 1, "identify PHOTO [--top K]")) != EXIT_YES)
            return rc;
        photos = a->pos + 1, n = 1;
    }
    int k = a->top;
    double t;
    sc_gallery g;
    memset(&g, 0, sizeof g);
    sc_match *m = malloc(sizeof *m * (size_t)n * k);
    int *found = malloc(sizeof *found * (size_t)n);
    if (!m || !found)
        rc = err("out of memory");
    if (rc == EXIT_YES)
        rc = open_store(a, s, SC_STORE_READONLY);
    if (rc == EXIT_YES)
        rc = open_model(a, s);
    if (rc == EXIT_YES)
        rc = threshold_for(a, s, &t);
    if (rc == EXIT_YES && sc_facedb_identify(s->st, &s->em, photos, n, k, &g, m, found) != SC_OK)
        rc = lib_err();
    if (rc == EXIT_YES) {
        int all = 1;
        if (a->json)
            printf("{\"command\": \"identify\", \"threshold\": %.6g, \"people\": %d, "
                   "\"results\": [", t, g.npeople);
        for (int i = 0; i < n; i++) {
            const sc_match *mi = m + (size_t)i * k;
            /* open set: a stranger's nearest people are not shown (their names would leak) */
            int known = found[i] > 0 && mi[0].distance <= t;
            all &= known;
            if (a->json) {
                printf("%s{\"photo\": ", i ? ", " : "");
                json_str(photos[i]);
                printf(", \"decision\": \"%s\", \"best_distance\": ",
                       known ? "FOUND" : "UNKNOWN");
                json_num(found[i] ? mi[0].distance : INFINITY);
                printf(", \"candidates\": [");
                for (int j = 0; known && j < found[i]; j++) {
                    printf("%s{\"name\": ", j ? ", " : "");
                    json_str(g.names[mi[j].person]);
                    printf(", \"distance\": ");
                    json_num(mi[j].distance);
                    printf(", \"within_threshold\": %s}", mi[j].distance <= t ? "true" : "false");
                }
                printf("]}");
            } else if (!known) {
                if (found[i])
                    printf("%s: UNKNOWN (nearest distance %.4f > threshold %.4f)\n", photos[i],
                           mi[0].distance, t);
                else
                    printf("%s: UNKNOWN (nobody is enrolled)\n", photos[i]);
            } else {
                printf("%s: %s (distance %.4f, threshold %.4f)\n", photos[i],
                       g.names[mi[0].person], mi[0].distance, t);
                for (int j = 1; j < found[i]; j++)
                    printf("  %d. %s (distance %.4f%s)\n", j + 1, g.names[mi[j].person],
                           mi[j].distance, mi[j].distance <= t ? "" : ", beyond the threshold");
            }
        }
        if (a->json)
            printf("]}\n");
        rc = all ? EXIT_YES : EXIT_NO;
    }
    sc_gallery_free(&g);
    free(m), free(found);
    lines_free(&l);
    return rc;
}

static int cmd_list(const args *a, session *s)
{
    int rc;
    if ((rc = need(a, 0, 0, "list")) != EXIT_YES ||
        (rc = open_store(a, s, SC_STORE_READONLY)) != EXIT_YES)
        return rc;
    sc_person_info *p;
    int n;
    sc_store_model sm;
    if (sc_store_begin(s->st, 0) != SC_OK || sc_store_get_model(s->st, &sm) != SC_OK ||
        sc_store_list(s->st, &p, &n) != SC_OK) {
        sc_store_rollback(s->st);
        return lib_err();
    }
    sc_store_commit(s->st);
    long long templates = 0;
    for (int i = 0; i < n; i++)
        templates += p[i].templates;
    if (a->json) {
        printf("{\"command\": \"list\", \"model\": ");
        json_str(sm.fingerprint);
        printf(", \"checkpoint\": ");
        json_str(sm.name);
        printf(", \"people\": [");
    } else {
        printf("%d %s, %lld template%s; model %s (%s)\n", n, n == 1 ? "person" : "people",
               templates, templates == 1 ? "" : "s", sm.fingerprint[0] ? sm.fingerprint : "none",
               sm.name[0] ? sm.name : "-");
    }
    for (int i = 0; i < n; i++) {
        char when[32];
        time_t c = (time_t)p[i].created;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&c, &tm));
        if (a->json) {
            printf("%s{\"name\": ", i ? ", " : "");
            json_str(p[i].name);
            printf(", \"templates\": %d, \"created\": \"%sZ\"}", p[i].templates, when);
        } else {
            printf("%s\t%d\t%s UTC\n", p[i].name, p[i].templates, when);
        }
    }
    if (a->json)
        printf("]}\n");
    free(p);
    return EXIT_YES;
}

/* remove / rename: one write transaction; 1 when the name is unknown. */
static int cmd_change(const args *a, session *s, int rename)
{
    int rc = rename ? need(a, 2, 2, "rename OLD NEW") : need(a, 1, 1, "remove NAME");
    if (rc != EXIT_YES || (rc = open_store(a, s, 0)) != EXIT_YES)
        return rc;
    const char *name = a->pos[1];
    if (sc_store_begin(s->st, 1) != SC_OK)
        return lib_err();
    int done = rename ? sc_store_person_rename(s->st, name, a->pos[2])
                      : sc_store_person_remove(s->st, name);
    if (done < 0 || sc_store_commit(s->st) != SC_OK) {
        sc_store_rollback(s->st);
        return lib_err();
    }
    if (a->json) {
        printf("{\"command\": \"%s\", \"name\": ", rename ? "rename" : "remove");
        json_str(name);
        printf(", \"done\": %s}\n", done ? "true" : "false");
    } else if (!done) {
        printf("%s is not enrolled\n", name);
    } else if (rename) {
        printf("renamed %s to %s\n", name, a->pos[2]);
    } else {
        printf("removed %s\n", name);
    }
    return done ? EXIT_YES : EXIT_NO;
}

static int cmd_check(const args *a, session *s)
{
    int rc;
    if ((rc = need(a, 0, 0, "check")) != EXIT_YES ||
        (rc = open_store(a, s, SC_STORE_READONLY)) != EXIT_YES)
        return rc;
    long long people, templates;
    if (sc_store_begin(s->st, 0) != SC_OK || sc_store_check(s->st) != SC_OK ||
        sc_store_counts(s->st, &people, &templates) != SC_OK) {
        sc_store_rollback(s->st);
        return lib_err();
    }
    sc_store_commit(s->st);
    if (a->json)
        printf("{\"command\": \"check\", \"ok\": true, \"people\": %lld, \"templates\": %lld}\n",
               people, templates);
    else
        printf("ok: %lld people, %lld templates\n", people, templates);
    return EXIT_YES;
}

static void eval_row(const char *what, double t, double dir, double fa, double tar, double far,
                     double acc)
{
    printf("  %-10s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", what, t, dir, fa, tar, far, acc);
}

static int cmd_evaluate(const args *a, session *s)
{
    int rc;
    if ((rc = need(a, 0, 0, "evaluate --lfw DIR [--model CKPT]")) != EXIT_YES)
        return rc;
    const char *lfw = a->lfw ? a->lfw : getenv("LFW_DIR");
    if (!lfw || !*lfw)
        return err("evaluate needs --lfw DIR (or $LFW_DIR)");
    const char *model = a->model ? a->model : default_model();
    if (!model)
        return EXIT_ERR;
    if ((rc = open_device(a, s)) != EXIT_YES)
        return rc;
    sc_system_eval_opts o = {.lfw_root = lfw, .people = a->people, .cache_dir = a->cache,
                             .seed = 1};
    sc_system_eval r;
    if (sc_system_evaluate(s->ctx, model, &o, &r) != SC_OK)
        return lib_err();
    if (a->json) {
        printf("{\"command\": \"evaluate\", \"enrolled\": %d, \"genuine_probes\": %d, "
               "\"stranger_probes\": %d, \"rank1\": ", r.enrolled, r.genuine, r.strangers);
        json_num(r.rank1);
        for (int f = 0; f < 2; f++) {
            printf(", \"dir_at_far_%g\": ", r.far_target[f]);
            json_num(r.dir[f]);
            printf(", \"threshold_at_far_%g\": ", r.far_target[f]);
            json_num(r.dir_threshold[f]);
        }
        printf(", \"verification_claims\": %d, \"verification_auc\": ", r.claims);
        json_num(r.verif_auc);
        printf(", \"verification_eer\": ");
        json_num(r.verif_eer);
        for (int c = 0; c < SC_SYSEVAL_THRESHOLDS; c++) {
            printf(", \"%s\": {\"threshold\": ", r.cal_name[c]);
            json_num(r.cal_threshold[c]);
            printf(", \"dir\": ");
            json_num(r.cal_dir[c]);
            printf(", \"false_alarm\": ");
            json_num(r.cal_false_alarm[c]);
            printf(", \"tar\": ");
            json_num(r.cal_tar[c]);
            printf(", \"far\": ");
            json_num(r.cal_far[c]);
            printf(", \"accuracy\": ");
            json_num(r.cal_accuracy[c]);
            printf("}");
        }
        printf(", \"images_per_s\": ");
        json_num(r.images_per_s);
        printf(", \"search_s\": ");
        json_num(r.seconds_search);
        printf("}\n");
        return EXIT_YES;
    }
    printf("enrolled %d people (one image each); probes: %d of enrolled people, %d of never "
           "enrolled people\n", r.enrolled, r.genuine, r.strangers);
    printf("rank-1 identification rate: %.4f\n", r.rank1);
    for (int f = 0; f < 2; f++)
        printf("DIR at false-alarm rate %g: %.4f (threshold %.4f, from this set's strangers)\n",
               r.far_target[f], r.dir[f], r.dir_threshold[f]);
    printf("verification (%d claims, half genuine): AUC %.4f, EER %.4f\n", r.claims, r.verif_auc,
           r.verif_eer);
    printf("at the checkpoint's calibrated thresholds:\n");
    printf("  %-10s %9s %9s %9s %9s %9s %9s\n", "point", "threshold", "DIR", "alarms", "TAR",
           "FAR", "accuracy");
    for (int c = 0; c < SC_SYSEVAL_THRESHOLDS; c++)
        eval_row(r.cal_name[c], r.cal_threshold[c], r.cal_dir[c], r.cal_false_alarm[c],
                 r.cal_tar[c], r.cal_far[c], r.cal_accuracy[c]);
    printf("embedding %.0f images/s; %d probes searched in %.3f s\n", r.images_per_s,
           r.genuine + r.strangers, r.seconds_search);
    return EXIT_YES;
}

int main(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_YES) {
        free(a.pos);
        return rc;
    }
    session s;
    memset(&s, 0, sizeof s);
    const char *cmd = a.pos[0];
    if (!strcmp(cmd, "enroll"))
        rc = cmd_enroll(&a, &s);
    else if (!strcmp(cmd, "verify"))
        rc = cmd_verify(&a, &s);
    else if (!strcmp(cmd, "identify"))
        rc = cmd_identify(&a, &s);
    else if (!strcmp(cmd, "list"))
        rc = cmd_list(&a, &s);
    else if (!strcmp(cmd, "remove"))
        rc = cmd_change(&a, &s, 0);
    else if (!strcmp(cmd, "rename"))
        rc = cmd_change(&a, &s, 1);
    else if (!strcmp(cmd, "check"))
        rc = cmd_check(&a, &s);
    else if (!strcmp(cmd, "evaluate"))
        rc = cmd_evaluate(&a, &s);
    else
        rc = err("unknown command '%s' (facedb --help)", cmd);
    session_close(&s);
    free(a.pos);
    return rc;
}
