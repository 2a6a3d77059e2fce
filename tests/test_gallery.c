/* The gallery room without photos: device search against the plain-C brute force (chunked
 * gallery, several query blocks, k beyond the gallery), identification of people with several
 * templates, and the SQLite store: creation mode, refusal of foreign, newer, altered and
 * damaged files, the model binding, rows, WAL readers during a write, and consistency after
 * enrolls killed at random moments. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "siamcl/gallery_store.h"
#include "support.h"

/* ---- device search ---------------------------------------------------------------------- */

/* The device ranks by the GEMM form of the squared distance; near-ties may come back in
 * another order than the exact brute force, so compare the distances rank by rank and check
 * that every returned row really is at the distance reported for its rank. */
static void check_search(sc_index *ix, const float *g, int n, int dim, const float *q, int nq,
                         int k)
{
    int *gi = malloc(sizeof *gi * (size_t)nq * k), *wi = malloc(sizeof *wi * (size_t)nq * k);
    float *gd = malloc(sizeof *gd * (size_t)nq * k), *wd = malloc(sizeof *wd * (size_t)nq * k);
    cr_assert_eq(sc_index_search(ix, q, nq, k, gi, gd), SC_OK, "%s", sc_last_error());
    sc_knn_host(g, n, dim, q, nq, k, wi, wd);
    /* two checks per entry: the exact distance of the row, and the distance reported */
    float *got = malloc(sizeof *got * 2 * (size_t)nq * k);
    float *want = malloc(sizeof *want * 2 * (size_t)nq * k);
    size_t m = 0;
    for (size_t j = 0; j < (size_t)nq * k; j++) {
        if (wi[j] < 0) {
            cr_assert(gi[j] == -1 && isinf(gd[j]), "query %zu rank %zu: got row %d beyond the "
                      "gallery of %d", j / k, j % k, gi[j], n);
            continue;
        }
        cr_assert(gi[j] >= 0 && gi[j] < n, "query %zu rank %zu: row %d", j / k, j % k, gi[j]);
        /* the exact distance of the row returned at this rank */
        const float *a = q + (j / k) * dim, *b = g + (size_t)gi[j] * dim;
        double s = 0;
        for (int d = 0; d < dim; d++)
            s += ((double)a[d] - b[d]) * ((double)a[d] - b[d]);
        got[m] = (float)sqrt(s);
        want[m++] = wd[j];
        got[m] = gd[j];
        want[m++] = wd[j];
    }
    test_expect_close("gallery.search", got, want, m);
    for (int i = 0; i < nq; i++) /* each row at most once per query */
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++)
                cr_assert(gi[i * k + a] < 0 || gi[i * k + a] != gi[i * k + b],
                          "query %d returns row %d twice", i, gi[i * k + a]);
    free(gi), free(wi), free(gd), free(wd), free(got), free(want);
}

Test(gallery, search_matches_brute_force)
{
    static const int cases[][4] = {
        /* n, dim, nq, k */
        {1, 8, 3, 1}, {5, 16, 4, 9}, {1000, 32, 11, 5}, {5003, 20, 37, 10}, {257, 128, 1, 64},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int n = cases[c][0], dim = cases[c][1], nq = cases[c][2], k = cases[c][3];
        float *g = test_rand_alloc((size_t)n * dim, 300 + (unsigned)c, -1.0f, 1.0f);
        float *q = test_rand_alloc((size_t)nq * dim, 400 + (unsigned)c, -1.0f, 1.0f);
        sc_index ix;
        cr_assert_eq(sc_index_init(&ix, test_ctx(), dim), SC_OK);
        /* small blocks: several gallery chunks and query blocks (a last block of one query
         * takes the path without the GEMM) even for these sizes */
        ix.block_floats = 4096;
        ix.query_block = 5;
        /* added in two parts: the device matrix grows and keeps the first rows */
        int half = n / 2;
        cr_assert_eq(sc_index_add(&ix, g, half), SC_OK, "%s", sc_last_error());
        cr_assert_eq(sc_index_add(&ix, g + (size_t)half * dim, n - half), SC_OK, "%s",
                     sc_last_error());
        check_search(&ix, g, n, dim, q, nq, k);
        ix.block_floats = (size_t)8 << 20, ix.query_block = 256; /* the defaults */
        check_search(&ix, g, n, dim, q, nq, k);
        sc_index_free(&ix);
        free(g), free(q);
    }
}

Test(gallery, empty_index_and_bad_input)
{
    sc_index ix;
    cr_assert_eq(sc_index_init(&ix, test_ctx(), 4), SC_OK);
    float q[4] = {1, 2, 3, 4};
    int idx[3];
    float d[3];
    cr_assert_eq(sc_index_search(&ix, q, 1, 3, idx, d), SC_OK, "%s", sc_last_error());
    cr_assert(idx[0] == -1 && idx[2] == -1 && isinf(d[1]));
    float bad[4] = {0, NAN, 0, 0};
    cr_assert_eq(sc_index_add(&ix, bad, 1), SC_ERR);
    cr_assert(strstr(sc_last_error(), "non-finite"), "%s", sc_last_error());
    cr_assert_eq(sc_index_add(&ix, q, 1), SC_OK);
    cr_assert_eq(sc_index_search(&ix, bad, 1, 1, idx, d), SC_ERR);
    cr_assert_eq(sc_index_search(&ix, q, 1, 0, idx, d), SC_ERR);
    sc_index_free(&ix);
}

Test(gallery, identify_reports_each_person_once_at_the_nearest_template)
{
    int dim = 8;
    sc_gallery g;
    cr_assert_eq(sc_gallery_init(&g, test_ctx(), dim), SC_OK);
    /* person p's templates are around the point p * e0, templates at +-0.1 j in e1 */
    for (int p = 0; p < 6; p++) {
        float t[4 * 8] = {0};
        int nt = 1 + p % 4;
        for (int j = 0; j < nt; j++) {
            t[j * dim + 0] = (float)p;
            t[j * dim + 1] = 0.1f * (float)(j + 1);
        }
        char name[16];
        snprintf(name, sizeof name, "person%d", p);
        cr_assert_eq(sc_gallery_add(&g, name, p + 100, t, nt), SC_OK, "%s", sc_last_error());
    }
    cr_assert_eq(g.max_templates, 4);
    float q[2 * 8] = {0};
    q[0] = 2.1f;             /* nearest: person2 (0.1 away in e0, 0.1 in e1), then 3, 1 */
    q[dim + 0] = 40.0f;      /* far from everyone: still ranked */
    sc_match m[2 * 10];
    int found[2];
    cr_assert_eq(sc_gallery_identify(&g, q, 2, 10, m, found), SC_OK, "%s", sc_last_error());
    cr_assert_eq(found[0], 6, "k beyond the people: each person once");
    cr_assert_eq(found[1], 6);
    cr_assert_eq(m[0].person, 2);
    cr_assert_eq(m[1].person, 3);
    cr_assert_eq(m[2].person, 1);
    double want = sqrt(0.1 * 0.1 + 0.1 * 0.1);
    cr_assert(fabs(m[0].distance - want) < 1e-6, "distance %g, want %g", m[0].distance, want);
    cr_assert(fabs(m[0].distance - sc_gallery_distance(&g, 2, q)) < 1e-12);
    for (int j = 1; j < 6; j++)
        cr_assert(m[j].distance >= m[j - 1].distance);
    cr_assert_eq(m[10].person, 5);
    cr_assert_eq(sc_gallery_find(&g, "person4"), 4);
    cr_assert_eq(sc_gallery_find(&g, "nobody"), -1);
    cr_assert_eq(sc_gallery_identify(&g, q, 1, 2, m, found), SC_OK);
    cr_assert_eq(found[0], 2);
    sc_gallery_free(&g);
}

/* ---- the store ---------------------------------------------------------------------------- */

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/siamcl-test-%d-%s.facedb", (int)getpid(), tag);
    unlink(buf);
    char side[1100];
    snprintf(side, sizeof side, "%s-wal", buf);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", buf);
    unlink(side);
}

static void remove_store(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static sc_model_info fake_model(const char *fp, int dim)
{
    sc_model_info m;
    memset(&m, 0, sizeof m);
    snprintf(m.fingerprint, sizeof m.fingerprint, "%s", fp);
    m.dim = dim;
    return m;
}

static void expect_open_fails(const char *path, unsigned flags, const char *why)
{
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, flags), SC_ERR, "opened a store that should fail (%s)",
                 why);
    cr_assert(strstr(sc_last_error(), path), "the message names the file: %s", sc_last_error());
    cr_assert(strstr(sc_last_error(), why), "expected '%s' in: %s", why, sc_last_error());
}

Test(store, created_private_in_wal_mode)
{
    char path[256];
    tmp_path(path, sizeof path, "mode");
    expect_open_fails(path, 0, "no store at");
    mode_t old = umask(0); /* even with a permissive umask */
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, SC_STORE_CREATE), SC_OK, "%s", sc_last_error());
    umask(old);
    sc_model_info m = fake_model("00112233445566ff", 4);
    sc_enroll_result r;
    float e[4] = {1, 0, 0, 0};
    uint64_t h = 1;
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "a.ckpt", "Ada", e, &h, 1, 0, &r), SC_OK,
                 "%s", sc_last_error());
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "store mode %o", (unsigned)(sb.st_mode & 0777));
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    cr_assert_eq(stat(wal, &sb), 0, "WAL file exists while open");
    cr_assert_eq(sb.st_mode & 0777, 0600, "WAL mode %o", (unsigned)(sb.st_mode & 0777));
    cr_assert_str_eq(sc_store_warning(st), "");
    sc_store_close(st);
    chmod(path, 0644);
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    cr_assert(strstr(sc_store_warning(st), "chmod 600"), "%s", sc_store_warning(st));
    sc_store_close(st);
    remove_store(path);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK, "%s: %s", text,
                 sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void make_store(const char *path, int people)
{
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, SC_STORE_CREATE), SC_OK, "%s", sc_last_error());
    sc_model_info m = fake_model("0123456789abcdef", 16);
    for (int p = 0; p < people; p++) {
        float e[3 * 16];
        test_rand(e, 3 * 16, 50 + (unsigned)p, -1, 1);
        uint64_t h[3] = {(uint64_t)p * 3, (uint64_t)p * 3 + 1, (uint64_t)p * 3 + 2};
        char name[32];
        snprintf(name, sizeof name, "person %d", p);
        sc_enroll_result r;
        cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", name, e, h, 3, 0, &r), SC_OK,
                     "%s", sc_last_error());
    }
    sc_store_close(st);
}

Test(store, foreign_newer_altered_and_damaged_files_are_refused)
{
    char path[256];
    tmp_path(path, sizeof path, "foreign");
    write_file(path, "name,score\nada,3\n", 17);
    expect_open_fails(path, SC_STORE_CREATE, "not an SQLite database");
    remove_store(path);

    sql(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);");
    expect_open_fails(path, SC_STORE_CREATE, "another application");
    remove_store(path);

    sql(path, "PRAGMA application_id = 1234; CREATE TABLE t (x);");
    expect_open_fails(path, 0, "another application");
    remove_store(path);

    make_store(path, 2);
    sql(path, "PRAGMA user_version = 7;");
    expect_open_fails(path, 0, "newer facedb");
    remove_store(path);

    make_store(path, 2);
    sql(path, "CREATE TRIGGER spy AFTER INSERT ON people BEGIN SELECT 1; END;");
    expect_open_fails(path, 0, "unexpected trigger");
    remove_store(path);

    make_store(path, 2);
    sql(path, "ALTER TABLE people ADD COLUMN badge TEXT;");
    expect_open_fails(path, 0, "columns");
    remove_store(path);

    /* damage: overwrite the middle of the file (its b-tree pages) with garbage */
    make_store(path, 40);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert(sb.st_size >= 4 * 4096, "the store has %lld bytes", (long long)sb.st_size);
    int fd = open(path, O_WRONLY);
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 37 + 11);
    cr_assert_eq(pwrite(fd, junk, sizeof junk, sb.st_size - 4096), (ssize_t)sizeof junk);
    cr_assert_eq(pwrite(fd, junk, 100, 4096 + 8), 100);
    close(fd);
    sc_store *st;
    int rc = sc_store_open(&st, path, 0);
    if (rc == SC_OK) { /* the damage may lie beyond the pages opening reads */
        rc = sc_store_check(st);
        sc_store_close(st);
    }
    cr_assert_eq(rc, SC_ERR, "a damaged store passed");
    cr_assert(strstr(sc_last_error(), "damaged") || strstr(sc_last_error(), "malformed"), "%s",
              sc_last_error());
    cr_assert(strstr(sc_last_error(), path), "%s", sc_last_error());
    remove_store(path);
}

Test(store, a_different_model_is_refused_with_what_to_do)
{
    char path[256];
    tmp_path(path, sizeof path, "model");
    make_store(path, 1);
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    sc_store_model sm;
    cr_assert_eq(sc_store_get_model(st, &sm), SC_OK);
    cr_assert_str_eq(sm.fingerprint, "0123456789abcdef");
    cr_assert_eq(sm.dim, 16);
    cr_assert_str_eq(sm.name, "m.ckpt");
    sc_model_info other = fake_model("fedcba9876543210", 16);
    float e[16] = {0};
    uint64_t h = 99;
    sc_enroll_result r;
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &other, "new.ckpt", "Bob", e, &h, 1, 0, &r),
                 SC_ERR);
    const char *msg = sc_last_error();
    cr_assert(strstr(msg, "different models") && strstr(msg, "m.ckpt") &&
              strstr(msg, "--db NEW") && strstr(msg, "new.ckpt"), "%s", msg);
    cr_assert_eq(sc_store_check_model(st, &other, "new.ckpt"), SC_ERR);
    long long people, templates;
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK);
    cr_assert(people == 1 && templates == 3, "the refused enroll left %lld people, %lld "
              "templates", people, templates);
    sc_store_close(st);
    remove_store(path);
}

Test(store, people_and_templates)
{
    char path[256];
    tmp_path(path, sizeof path, "rows");
    make_store(path, 3);
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    sc_model_info m = fake_model("0123456789abcdef", 16);
    float e[2 * 16];
    test_rand(e, 32, 77, -1, 1);
    uint64_t h[2] = {0 /* already person 0's photo */, 1000};
    sc_enroll_result r;
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "person 0", e, h, 2, 0, &r),
                 SC_ERR, "an existing name needs add_to_existing");
    cr_assert(strstr(sc_last_error(), "already enrolled"), "%s", sc_last_error());
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "person 0", e, h, 2, 1, &r), SC_OK,
                 "%s", sc_last_error());
    cr_assert(r.added == 1 && r.duplicates == 1 && !r.created);
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "", e, h, 1, 0, &r), SC_ERR);
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "tab\there\x1b[31m", e, h, 1,
                                             0, &r), SC_ERR);
    cr_assert(strstr(sc_last_error(), "'tab\\x09here\\x1b[31m'"), "printed escaped: %s",
              sc_last_error());
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "bad \xff utf8", e, h, 1, 0, &r),
                 SC_ERR);
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "Zoë Ångström", e, h, 1, 0, &r),
                 SC_OK, "%s", sc_last_error());

    sc_person_info *list;
    int n;
    cr_assert_eq(sc_store_list(st, &list, &n), SC_OK);
    cr_assert_eq(n, 4); /* by name, bytewise: capitals first */
    cr_assert_str_eq(list[0].name, "Zoë Ångström");
    cr_assert_eq(list[0].templates, 1);
    cr_assert_str_eq(list[1].name, "person 0");
    cr_assert_eq(list[1].templates, 4);
    cr_assert_eq(list[2].templates, 3);
    free(list);

    cr_assert_eq(sc_store_begin(st, 1), SC_OK);
    cr_assert_eq(sc_store_person_rename(st, "person 1", "Grace"), 1);
    cr_assert_eq(sc_store_person_rename(st, "nobody", "X"), 0);
    cr_assert_eq(sc_store_person_rename(st, "Grace", "person 2"), SC_ERR);
    cr_assert(strstr(sc_last_error(), "already enrolled"), "%s", sc_last_error());
    cr_assert_eq(sc_store_person_remove(st, "person 2"), 1);
    cr_assert_eq(sc_store_person_remove(st, "person 2"), 0);
    cr_assert_eq(sc_store_commit(st), SC_OK);
    long long people, templates;
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK);
    cr_assert(people == 3 && templates == 1 + 4 + 3, "%lld people, %lld templates", people,
              templates);
    long long id;
    cr_assert_eq(sc_store_person_find(st, "Grace", &id), 1);
    float *t;
    int nt;
    cr_assert_eq(sc_store_person_templates(st, id, 16, &t, &nt), SC_OK);
    cr_assert_eq(nt, 3);
    float want[16];
    test_rand(want, 16, 51, -1, 1); /* make_store's person 1, first template */
    test_expect_close("exact", t, want, 16);
    free(t);

    sc_gallery g;
    cr_assert_eq(sc_gallery_init(&g, test_ctx(), 16), SC_OK);
    cr_assert_eq(sc_store_load(st, &g), SC_OK, "%s", sc_last_error());
    cr_assert_eq(g.npeople, 3);
    cr_assert_eq(g.n, 8);
    cr_assert_eq(g.max_templates, 4);
    cr_assert_eq(sc_store_check(st), SC_OK, "%s", sc_last_error());
    sc_gallery_free(&g);
    sc_store_close(st);
    remove_store(path);
}

/* Rewrites template `id`'s blob through edit(bytes, n) (n may change). */
static void patch_template(const char *path, long long id, int (*edit)(unsigned char *, int))
{
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT embedding FROM templates WHERE id = ?1", -1, &s,
                                    NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, id);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "no template %lld", id);
    unsigned char buf[1024];
    int n = sqlite3_column_bytes(s, 0);
    cr_assert(n <= (int)sizeof buf);
    memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
    sqlite3_finalize(s);
    n = edit(buf, n);
    cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE templates SET embedding = ?2 WHERE id = ?1", -1,
                                    &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_blob(s, 2, buf, n, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static int flip_a_bit(unsigned char *b, int n) { return b[5] ^= 0x10, n; }
static int drop_sum(unsigned char *b, int n) { return (void)b, n - 8; }
static int put_nan(unsigned char *b, int n)
{
    float v = NAN;
    memcpy(b + 4, &v, sizeof v);
    return n;
}

/* Reads of person `name`'s templates and the whole-store check, failing with `why` (NULL:
 * both pass). */
static void expect_reads(const char *path, const char *name, const char *why)
{
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    long long id;
    cr_assert_eq(sc_store_person_find(st, name, &id), 1);
    float *t = NULL;
    int nt;
    int a = sc_store_person_templates(st, id, 16, &t, &nt);
    char first[512];
    snprintf(first, sizeof first, "%s", sc_last_error());
    int b = sc_store_check(st);
    free(t);
    if (!why) {
        cr_assert(a == SC_OK && b == SC_OK, "%s / %s", first, sc_last_error());
    } else {
        cr_assert(a == SC_ERR && strstr(first, why), "reading: %s", first);
        cr_assert(b == SC_ERR && strstr(sc_last_error(), why), "check: %s", sc_last_error());
    }
    sc_store_close(st);
}

/* A changed byte inside a template is invisible to SQLite: the checksum catches it, and
 * stores written before checksums (format 1) still read, and gain them on their next write. */
Test(store, template_damage_is_caught_and_old_stores_upgrade)
{
    char path[256];
    tmp_path(path, sizeof path, "sum");
    make_store(path, 2); /* templates 1-3: person 0, 4-6: person 1 */
    expect_reads(path, "person 0", NULL);
    patch_template(path, 2, flip_a_bit);
    expect_reads(path, "person 0", "does not match its checksum");
    patch_template(path, 2, flip_a_bit);
    patch_template(path, 3, drop_sum); /* a format 2 row without its sum */
    expect_reads(path, "person 0", "and their checksum");
    remove_store(path);

    /* the same store as format 1 wrote it: no sums, no checked_from */
    make_store(path, 2);
    for (long long id = 1; id <= 6; id++)
        patch_template(path, id, drop_sum);
    sql(path, "DELETE FROM store WHERE key = 'checked_from'; PRAGMA user_version = 1;");
    expect_reads(path, "person 1", NULL);
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    sc_model_info m = fake_model("0123456789abcdef", 16);
    float e[16];
    test_rand(e, 16, 9, -1, 1);
    uint64_t h = 99;
    sc_enroll_result r;
    cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "Ada", e, &h, 1, 0, &r), SC_OK,
                 "%s", sc_last_error());
    sc_store_close(st);
    expect_reads(path, "person 0", NULL); /* old rows still read, the new one too */
    expect_reads(path, "Ada", NULL);
    patch_template(path, 7, flip_a_bit); /* Ada's row was written with a sum */
    expect_reads(path, "Ada", "does not match its checksum");
    patch_template(path, 7, flip_a_bit);
    patch_template(path, 5, put_nan); /* an old row has only its values to go by */
    expect_reads(path, "person 1", "non-finite");
    remove_store(path);
}

/* Reading only (verify, identify, list, check): a store on read-only media is read as
 * immutable (the test hook stands in for a read-only mount, which needs privileges), its
 * reads and check work, no -wal or -shm file appears beside it, and a write fails saying
 * why; the same flag on writable media opens it as before. The file name holds the
 * characters a "file:" URI gives meaning to. */
Test(store, read_only_media_are_read_as_immutable)
{
    char path[256], side[300];
    tmp_path(path, sizeof path, "ro%25?x#y");
    make_store(path, 2);
    expect_reads(path, "person 1", NULL);
    sc_store_force_readonly_media(1);
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, path, SC_STORE_READONLY), SC_OK, "%s", sc_last_error());
    long long id, people, templates;
    cr_assert_eq(sc_store_person_find(st, "person 1", &id), 1, "%s", sc_last_error());
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK, "%s", sc_last_error());
    cr_assert(people == 2 && templates == 6, "%lld people, %lld templates", people, templates);
    float *t = NULL;
    int nt = 0;
    cr_assert_eq(sc_store_person_templates(st, id, 16, &t, &nt), SC_OK, "%s", sc_last_error());
    cr_assert_eq(nt, 3);
    free(t);
    cr_assert_eq(sc_store_check(st), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_store_person_remove(st, "person 0"), SC_ERR);
    cr_assert(strstr(sc_last_error(), "read-only media"), "%s", sc_last_error());
    snprintf(side, sizeof side, "%s-shm", path);
    cr_assert(access(side, F_OK) != 0, "an immutable read made %s", side);
    snprintf(side, sizeof side, "%s-wal", path);
    cr_assert(access(side, F_OK) != 0, "an immutable read made %s", side);
    sc_store_close(st);
    /* writers are not affected by the hook */
    cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_store_person_remove(st, "person 0"), 1, "%s", sc_last_error());
    sc_store_close(st);
    sc_store_force_readonly_media(-1);
    cr_assert_eq(sc_store_open(&st, path, SC_STORE_READONLY), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK, "%s", sc_last_error());
    cr_assert(people == 1 && templates == 3, "%lld people, %lld templates", people, templates);
    sc_store_close(st);
    remove_store(path);
}

Test(store, readers_are_not_blocked_by_a_writer)
{
    char path[256];
    tmp_path(path, sizeof path, "wal");
    make_store(path, 2);
    sc_store *w, *rd;
    cr_assert_eq(sc_store_open(&w, path, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_store_open(&rd, path, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_store_begin(w, 1), SC_OK);
    long long id;
    cr_assert_eq(sc_store_person_add(w, "pending", &id), SC_OK);
    /* the reader sees the last commit, without waiting */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(sc_store_begin(rd, 0), SC_OK);
    long long people, templates;
    cr_assert_eq(sc_store_counts(rd, &people, &templates), SC_OK, "%s", sc_last_error());
    cr_assert_eq(people, 2);
    cr_assert_eq(sc_store_person_find(rd, "pending", NULL), 0);
    cr_assert_eq(sc_store_commit(rd), SC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cr_assert(waited < 1.0, "the reader waited %.2f s for the writer", waited);
    cr_assert_eq(sc_store_commit(w), SC_OK);
    cr_assert_eq(sc_store_counts(rd, &people, &templates), SC_OK);
    cr_assert_eq(people, 3);
    sc_store_close(w), sc_store_close(rd);
    remove_store(path);
}

/* ---- crash consistency --------------------------------------------------------------------- */

#define KILL_ROUNDS 40
#define TEMPLATES_EACH 4

/* Child: enrolls people round_k_0, round_k_1, ... until killed, reporting each commit. */
static void enroll_until_killed(const char *path, int round, int fd)
{
    sc_store *st;
    if (sc_store_open(&st, path, 0) != SC_OK)
        _exit(3);
    sc_model_info m = fake_model("0123456789abcdef", 64);
    float e[TEMPLATES_EACH * 64];
    uint64_t h[TEMPLATES_EACH];
    for (int j = 0; j < 100000; j++) {
        for (int t = 0; t < TEMPLATES_EACH; t++)
            h[t] = ((uint64_t)round << 40) | ((uint64_t)j << 8) | (uint64_t)t;
        for (int i = 0; i < TEMPLATES_EACH * 64; i++)
            e[i] = (float)((i * 7 + j) % 13) / 13.0f;
        char name[64];
        snprintf(name, sizeof name, "round %d person %d", round, j);
        sc_enroll_result r;
        if (sc_facedb_enroll_embeddings(st, &m, "m.ckpt", name, e, h, TEMPLATES_EACH, 0, &r) !=
            SC_OK)
            _exit(4);
        if (write(fd, &j, sizeof j) != (ssize_t)sizeof j)
            _exit(5);
    }
    _exit(0);
}

Test(store, enrolls_killed_at_random_moments_leave_it_consistent)
{
    char path[256];
    tmp_path(path, sizeof path, "kill");
    {
        sc_store *st; /* created (and bound to the model) before the first kill */
        cr_assert_eq(sc_store_open(&st, path, SC_STORE_CREATE), SC_OK, "%s", sc_last_error());
        sc_model_info m = fake_model("0123456789abcdef", 64);
        float e[64] = {0};
        uint64_t h = 0;
        sc_enroll_result r;
        cr_assert_eq(sc_facedb_enroll_embeddings(st, &m, "m.ckpt", "first", e, &h, 1, 0, &r),
                     SC_OK, "%s", sc_last_error());
        sc_store_close(st);
    }
    long long expect_people = 1, expect_templates = 1;
    unsigned seed = 12345;
    int unconfirmed = 0;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            enroll_until_killed(path, round, fds[1]);
        }
        close(fds[1]);
        seed = seed * 1103515245u + 12345u;
        /* 2 .. 32 ms: during the open, between commits, inside transactions */
        long us = 2000 + (long)((seed >> 8) % 30000);
        nanosleep(&(struct timespec){0, us * 1000}, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status), "round %d: the enrolling child ended by itself (status "
                  "%d)", round, WEXITSTATUS(status));
        int j, confirmed = 0;
        while (read(fds[0], &j, sizeof j) == (ssize_t)sizeof j)
            confirmed++;
        close(fds[0]);

        sc_store *st;
        cr_assert_eq(sc_store_open(&st, path, 0), SC_OK, "round %d: %s", round, sc_last_error());
        cr_assert_eq(sc_store_check(st), SC_OK, "round %d: %s", round, sc_last_error());
        long long people, templates;
        cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK);
        /* every confirmed enroll is there; at most one more (committed, then killed before it
         * could report); never part of one */
        long long added = people - expect_people;
        cr_assert(added == confirmed || added == confirmed + 1,
                  "round %d: %d enrolls confirmed, %lld people added", round, confirmed, added);
        unconfirmed += added > confirmed;
        cr_assert_eq(templates - expect_templates, added * TEMPLATES_EACH,
                     "round %d: %lld people but %lld templates added", round, added,
                     templates - expect_templates);
        sc_person_info *list;
        int n;
        cr_assert_eq(sc_store_list(st, &list, &n), SC_OK);
        for (int i = 0; i < n; i++)
            cr_assert(strcmp(list[i].name, "first") == 0 || list[i].templates == TEMPLATES_EACH,
                      "round %d: %s has %d templates", round, list[i].name, list[i].templates);
        free(list);
        sc_store_close(st);
        expect_people = people;
        expect_templates = templates;
    }
    cr_assert(expect_people > KILL_ROUNDS, "the children enrolled only %lld people: the kills "
              "did not land during enrolls", expect_people);
    cr_log_info("%d kills, %lld people enrolled, %d commits the child could not report",
                KILL_ROUNDS, expect_people - 1, unconfirmed);
    remove_store(path);
}
