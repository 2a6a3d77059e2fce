/* People and templates in the store: the rows every command reads and writes. Embeddings are
 * stored as BLOBs of dim little-endian float32 (the byte order of every platform OpenCL
 * runs on here) and, from format 2, their checksum; checked whenever read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siamcl/util.h"
#include "store_internal.h"

/* The checksum of a template's floats: against damage, not tampering (anyone who can write
 * the file can write a matching sum). The fast one: identify reads every template. */
static uint64_t template_sum(const void *floats, size_t bytes)
{
    return sc_checksum64(floats, bytes);
}

/* name with control and non-ASCII bytes as \xNN, for messages about a name that is not
 * fit to print (an escape sequence would drive the terminal). */
static const char *escaped(const char *name, char *buf, size_t size)
{
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && o + 5 < size; c++)
        o += (size_t)(*c < 0x20 || *c >= 0x7f ? snprintf(buf + o, size - o, "\\x%02x", *c)
                                               : snprintf(buf + o, size - o, "%c", *c));
    buf[o] = '\0';
    return buf;
}

int sc_person_name_check(const char *name)
{
    char esc[4 * SC_NAME_MAX + 8];
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return sc_fail("a person's name cannot be empty");
    if (n > SC_NAME_MAX)
        return sc_fail("name '%.40s...' is %zu bytes long (at most %d)", name, n, SC_NAME_MAX);
    if (name[0] == ' ' || name[n - 1] == ' ')
        return sc_fail("name '%s' starts or ends with a space", name);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return sc_fail("name '%s' contains a control character (byte %zu)",
                           escaped(name, esc, sizeof esc), i + 1);
    }
    /* Well-formed UTF-8 (so that every tool shows the same name). */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)name[i];
        int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                                  : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (extra > 0 && i + (size_t)extra >= n))
            return sc_fail("name '%s' is not valid UTF-8 (byte %zu)",
                           escaped(name, esc, sizeof esc), i + 1);
        for (int k = 1; k <= extra; k++)
            if (((unsigned char)name[i + k] & 0xc0) != 0x80)
                return sc_fail("name '%s' is not valid UTF-8 (byte %zu)",
                               escaped(name, esc, sizeof esc), i + k + 1);
        i += (size_t)extra + 1;
    }
    return SC_OK;
}

int sc_store_person_find(sc_store *st, const char *name, long long *id)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "SELECT id FROM people WHERE name = ?1"));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && id)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : sc_store_fail(st, rc, "looking up a person");
}

int sc_store_person_add(sc_store *st, const char *name, long long *id)
{
    SC_TRY(sc_person_name_check(name));
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "INSERT INTO people (name, created) VALUES (?1, ?2)"));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return sc_fail("%s is already enrolled", name);
    if (rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "adding a person");
    *id = sqlite3_last_insert_rowid(st->db);
    return SC_OK;
}

int sc_store_person_remove(sc_store *st, const char *name)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "DELETE FROM people WHERE name = ?1"));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "removing a person");
    return sqlite3_changes(st->db) > 0; /* templates go with ON DELETE CASCADE */
}

int sc_store_person_rename(sc_store *st, const char *from, const char *to)
{
    SC_TRY(sc_person_name_check(to));
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "UPDATE people SET name = ?2 WHERE name = ?1"));
    sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return sc_fail("cannot rename %s to %s: %s is already enrolled", from, to, to);
    if (rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "renaming a person");
    return sqlite3_changes(st->db) > 0;
}

int sc_store_template_add(sc_store *st, long long person, const float *emb, int dim,
                          const char *fingerprint, uint64_t photo_hash, int *duplicate)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)photo_hash);
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT 1 FROM templates WHERE person = ?1 AND photo_hash = ?2 AND "
                            "model = ?3"));
    sqlite3_bind_int64(s, 1, person);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, fingerprint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "looking for the photo");
    *duplicate = rc == SQLITE_ROW;
    if (*duplicate)
        return SC_OK;
    if (st->format < 2) /* raise a format 1 store: rows from here on carry checksums */
        SC_TRY(sc_store_exec(st,
                             "INSERT OR REPLACE INTO store (key, value) VALUES ('checked_from', "
                             "(SELECT coalesce(max(id), 0) + 1 FROM templates)); "
                             "PRAGMA user_version = 2;",
                             "raising the store to format 2"));
    st->format = 2;
    size_t fb = sizeof(float) * (size_t)dim;
    unsigned char *blob = malloc(fb + SC_TEMPLATE_SUM_BYTES);
    if (!blob)
        return sc_fail("out of memory");
    uint64_t sum = template_sum(emb, fb);
    memcpy(blob, emb, fb);
    memcpy(blob + fb, &sum, sizeof sum);
    rc = sc_store_prepare(st, &s,
                          "INSERT INTO templates (person, embedding, model, photo_hash, created) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (rc != SC_OK) {
        free(blob);
        return rc;
    }
    sqlite3_bind_int64(s, 1, person);
    sqlite3_bind_blob(s, 2, blob, (int)(fb + SC_TEMPLATE_SUM_BYTES), free);
    sqlite3_bind_text(s, 3, fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)time(NULL));
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SC_OK : sc_store_fail(st, rc, "adding a template");
}

/* One template column into out[dim]: its size, its checksum (rows that must have one) and
 * finite values. Damage SQLite cannot see, a changed byte inside a blob, fails here instead
 * of silently moving a distance (a genuine person turned away, or worse, let in). */
static int template_read(sc_store *st, sqlite3_stmt *s, int col, int dim, long long id,
                         float *out)
{
    size_t fb = sizeof(float) * (size_t)dim;
    int bytes = sqlite3_column_bytes(s, col);
    const unsigned char *b = sqlite3_column_blob(s, col);
    int summed = bytes == (int)(fb + SC_TEMPLATE_SUM_BYTES);
    if (!summed && !(bytes == (int)fb && id < st->checked_from))
        return sc_fail("store %s: template %lld holds %d bytes, not %d floats%s: the file is "
                       "damaged", st->path, id, bytes, dim,
                       id < st->checked_from ? "" : " and their checksum");
    if (summed) {
        uint64_t want;
        memcpy(&want, b + fb, sizeof want);
        if (template_sum(b, fb) != want)
            return sc_fail("store %s: template %lld does not match its checksum: the file is "
                           "damaged (restore it from a backup)", st->path, id);
    }
    memcpy(out, b, fb);
    for (int i = 0; i < dim; i++)
        if (!isfinite(out[i]))
            return sc_fail("store %s: template %lld has a non-finite value: the file is "
                           "damaged", st->path, id);
    return SC_OK;
}

int sc_store_person_templates(sc_store *st, long long person, int dim, float **emb, int *n)
{
    *emb = NULL;
    *n = 0;
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT id, embedding FROM templates WHERE person = ?1 ORDER BY id"));
    sqlite3_bind_int64(s, 1, person);
    int rc, cap = 0, err = SC_OK;
    float *e = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            float *m = realloc(e, sizeof *e * (size_t)cap * dim);
            err = m ? SC_OK : sc_fail("out of memory");
            if (m)
                e = m;
        }
        if (err == SC_OK)
            err = template_read(st, s, 1, dim, sqlite3_column_int64(s, 0), e + (size_t)*n * dim);
        if (err != SC_OK)
            break;
        (*n)++;
    }
    sqlite3_finalize(s);
    if (err == SC_OK && rc != SQLITE_DONE)
        err = sc_store_fail(st, rc, "reading templates");
    if (err != SC_OK) {
        free(e);
        *n = 0;
        return SC_ERR;
    }
    *emb = e;
    return SC_OK;
}

int sc_store_list(sc_store *st, sc_person_info **out, int *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT p.id, p.name, p.created, count(t.id) FROM people p "
                            "LEFT JOIN templates t ON t.person = p.id GROUP BY p.id "
                            "ORDER BY p.name"));
    int rc, cap = 0, err = SC_OK;
    sc_person_info *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            sc_person_info *m = realloc(v, sizeof *v * (size_t)cap);
            if (!m) {
                err = sc_fail("out of memory");
                break;
            }
            v = m;
        }
        sc_person_info *p = &v[(*n)++];
        p->id = sqlite3_column_int64(s, 0);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(s, 1));
        p->created = sqlite3_column_int64(s, 2);
        p->templates = sqlite3_column_int(s, 3);
    }
    sqlite3_finalize(s);
    if (err == SC_OK && rc != SQLITE_DONE)
        err = sc_store_fail(st, rc, "listing people");
    if (err != SC_OK) {
        free(v);
        *n = 0;
        return SC_ERR;
    }
    *out = v;
    return SC_OK;
}

int sc_store_counts(sc_store *st, long long *people, long long *templates)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM "
                            "templates)"));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *people = sqlite3_column_int64(s, 0);
        *templates = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? SC_OK : sc_store_fail(st, rc, "counting");
}

int sc_store_load(sc_store *st, sc_gallery *g)
{
    sc_store_model m;
    SC_TRY(sc_store_get_model(st, &m));
    if (m.fingerprint[0] && m.dim != g->dim)
        return sc_fail("store %s holds %d-dimensional embeddings, the gallery expects %d",
                       st->path, m.dim, g->dim);
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT p.id, p.name, t.id, t.embedding, t.model FROM templates t "
                            "JOIN people p ON p.id = t.person ORDER BY p.id, t.id"));
    int rc, err = SC_OK, cnt = 0, cap = 0;
    long long cur = -1;
    char name[SC_NAME_MAX + 1] = "";
    float *buf = NULL;
    while (err == SC_OK) {
        rc = sqlite3_step(s);
        long long pid = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -2;
        if (pid != cur && cnt > 0) { /* a person's rows are complete */
            err = sc_gallery_add(g, name, cur, buf, cnt);
            cnt = 0;
        }
        if (rc != SQLITE_ROW || err != SC_OK)
            break;
        long long tid = sqlite3_column_int64(s, 2);
        if (strcmp((const char *)sqlite3_column_text(s, 4), m.fingerprint) != 0)
            err = sc_fail("store %s: template %lld was made by model %s, the store's is %s: the "
                          "file is damaged", st->path, tid, sqlite3_column_text(s, 4),
                          m.fingerprint);
        if (err != SC_OK)
            break;
        if (pid != cur) {
            cur = pid;
            snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(s, 1));
        }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 8;
            float *nb = realloc(buf, sizeof *buf * (size_t)cap * g->dim);
            if (!nb) {
                err = sc_fail("out of memory");
                break;
            }
            buf = nb;
        }
        err = template_read(st, s, 3, g->dim, tid, buf + (size_t)cnt * g->dim);
        if (err != SC_OK)
            break;
        cnt++;
    }
    sqlite3_finalize(s);
    free(buf);
    if (err == SC_OK && rc != SQLITE_DONE)
        err = sc_store_fail(st, rc, "loading the gallery");
    return err;
}

int sc_store_check(sc_store *st)
{
    sqlite3_stmt *s;
    char report[1024] = "";
    size_t len = 0;
    SC_TRY(sc_store_prepare(st, &s, "PRAGMA integrity_check(20)"));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(s, 0);
        if (strcmp(line, "ok") != 0 && len < sizeof report - 1)
            len += (size_t)snprintf(report + len, sizeof report - len, "%s%s", len ? "; " : "",
                                    line);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "checking integrity");
    if (len)
        return sc_fail("store %s is damaged: %s", st->path, report);
    long long bad;
    SC_TRY(sc_store_prepare(st, &s, "SELECT count(*) FROM pragma_foreign_key_check"));
    rc = sqlite3_step(s);
    bad = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return sc_store_fail(st, rc, "checking references");
    if (bad)
        return sc_fail("store %s: %lld templates belong to nobody", st->path, bad);
    sc_store_model m;
    SC_TRY(sc_store_get_model(st, &m));
    /* every template: its model, size, checksum and values */
    SC_TRY(sc_store_prepare(st, &s, "SELECT id, embedding, model FROM templates ORDER BY id"));
    float *e = malloc(sizeof *e * (size_t)(m.dim > 0 ? m.dim : 1));
    int err = e ? SC_OK : sc_fail("out of memory");
    while (err == SC_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(s, 0);
        if (strcmp((const char *)sqlite3_column_text(s, 2), m.fingerprint) != 0)
            err = sc_fail("store %s: template %lld was made by model %s, the store's is %s",
                          st->path, id, sqlite3_column_text(s, 2), m.fingerprint);
        else
            err = template_read(st, s, 1, m.dim, id, e);
    }
    sqlite3_finalize(s);
    free(e);
    if (err == SC_OK && rc != SQLITE_DONE)
        err = sc_store_fail(st, rc, "checking templates");
    return err;
}
