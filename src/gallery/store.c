/* The SQLite enrollment store: opening (with every check a foreign or damaged file must
 * fail), the schema, transactions and the model binding. Rows are in store_rows.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store_internal.h"

static const char *hint_for(int code)
{
    switch (code & 0xff) {
    case SQLITE_CORRUPT:
        return " (the store file is damaged: restore it from a backup)";
    case SQLITE_NOTADB:
        return " (not a facedb store: this is not an SQLite database)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return " (another facedb is writing to this store: try again)";
    case SQLITE_READONLY:
        return " (the store cannot be written here: read-only media, or a file or folder "
               "you may not write)";
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
        return " (check that the file and its folder are writable by you)";
    case SQLITE_FULL:
        return " (the disk is full)";
    default:
        return "";
    }
}

int sc_store_fail(sc_store *st, int code, const char *what)
{
    return sc_fail("store %s: %s: %s%s", st->path, what,
                   st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(code), hint_for(code));
}

int sc_store_exec(sc_store *st, const char *sql, const char *what)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SC_OK : sc_store_fail(st, rc, what);
}

int sc_store_prepare(sc_store *st, sqlite3_stmt **s, const char *sql)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    return rc == SQLITE_OK ? SC_OK : sc_store_fail(st, rc, "preparing a query");
}

/* One integer from a query with no parameters. */
static int query_int(sc_store *st, const char *sql, long long *out)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, sql));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? SC_OK : sc_store_fail(st, rc, sql);
}

static const char *schema_sql =
    "CREATE TABLE store (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE templates (id INTEGER PRIMARY KEY,"
    " person INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " embedding BLOB NOT NULL, model TEXT NOT NULL, photo_hash TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX templates_person ON templates(person);";

/* Expected columns of every table, in order. */
static const struct {
    const char *table, *columns;
} expected[] = {
    {"store", "key,value"},
    {"people", "id,name,created"},
    {"templates", "id,person,embedding,model,photo_hash,created"},
};

static int init_schema(sc_store *st)
{
    SC_TRY(sc_store_exec(st, "BEGIN IMMEDIATE", "starting the store's creation"));
    /* Two first enrolls at once: the one that waited for the lock finds the schema made. */
    long long objects = 0;
    if (query_int(st, "SELECT count(*) FROM sqlite_schema", &objects) != SC_OK || objects > 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return objects > 0 ? SC_OK : SC_ERR;
    }
    char sql[2048];
    snprintf(sql, sizeof sql,
             "%s INSERT INTO store (key, value) VALUES ('checked_from', '1'); "
             "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             schema_sql, SC_STORE_APPLICATION_ID, SC_STORE_FORMAT);
    if (sc_store_exec(st, sql, "creating the schema") != SC_OK ||
        sc_store_exec(st, "COMMIT", "committing the new store") != SC_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return SC_ERR;
    }
    return SC_OK;
}

static int check_schema(sc_store *st)
{
    sqlite3_stmt *s;
    for (size_t t = 0; t < sizeof expected / sizeof expected[0]; t++) {
        SC_TRY(sc_store_prepare(st, &s,
                                "SELECT group_concat(name, ',') FROM "
                                "(SELECT name FROM pragma_table_info(?1) ORDER BY cid)"));
        sqlite3_bind_text(s, 1, expected[t].table, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        const char *cols = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
        int ok = cols && strcmp(cols, expected[t].columns) == 0;
        char got[256];
        snprintf(got, sizeof got, "%s", cols ? cols : "(missing)");
        sqlite3_finalize(s);
        if (rc != SQLITE_ROW)
            return sc_store_fail(st, rc, "reading the schema");
        if (!ok)
            return sc_fail("store %s: table '%s' has columns %s, expected %s: the file is "
                           "damaged or was changed by hand", st->path, expected[t].table, got,
                           expected[t].columns);
    }
    /* Nothing else may live in the file: no triggers or views run on our statements. */
    SC_TRY(sc_store_prepare(st, &s,
                            "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' "
                            "AND name NOT IN ('store', 'people', 'templates', "
                            "'templates_person') LIMIT 1"));
    int rc = sqlite3_step(s);
    char extra[300] = "";
    if (rc == SQLITE_ROW)
        snprintf(extra, sizeof extra, "%s '%s'", sqlite3_column_text(s, 0),
                 sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return sc_fail("store %s: unexpected %s in the file: it was changed by hand or is not "
                       "a facedb store", st->path, extra);
    if (rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "reading the schema");
    return SC_OK;
}

/* The 16-byte header every SQLite 3 database starts with. */
static int sniff(sc_store *st, off_t size)
{
    if (size == 0)
        return SC_OK;
    static const char magic[16] = "SQLite format 3";
    char head[16] = {0};
    FILE *f = fopen(st->path, "rb");
    if (!f)
        return sc_fail("store %s: %s", st->path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got < sizeof head || memcmp(head, magic, sizeof magic) != 0)
        return sc_fail("store %s: not a facedb store (not an SQLite database): refusing to "
                       "touch it", st->path);
    return SC_OK;
}

/* Creates the file with mode 0600 before SQLite opens it (SQLite would use 0644). */
static int create_private(sc_store *st)
{
    int fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST)
        return sc_fail("store %s: cannot create it: %s", st->path, strerror(errno));
    if (fd >= 0) {
        int rc = fchmod(fd, 0600); /* whatever the umask */
        close(fd);
        if (rc != 0)
            return sc_fail("store %s: cannot set mode 0600: %s", st->path, strerror(errno));
    }
    return SC_OK;
}

static int configure(sc_store *st)
{
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    SC_TRY(sc_store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                         "setting up the connection"));
    return SC_OK;
}

static int get_value(sc_store *st, const char *key, char *buf, size_t size);

static int validate(sc_store *st, unsigned flags)
{
    long long app, version, objects;
    /* The first read also tells SQLite-level damage (NOTADB, CORRUPT) apart. */
    SC_TRY(query_int(st, "SELECT count(*) FROM sqlite_schema", &objects));
    SC_TRY(query_int(st, "PRAGMA application_id", &app));
    SC_TRY(query_int(st, "PRAGMA user_version", &version));
    if (app == 0 && objects == 0) { /* fresh (or its creation was interrupted) */
        if (!(flags & SC_STORE_CREATE))
            return sc_fail("store %s is empty: nobody was enrolled yet", st->path);
        SC_TRY(init_schema(st));
        SC_TRY(query_int(st, "PRAGMA application_id", &app));
        SC_TRY(query_int(st, "PRAGMA user_version", &version));
    }
    if (app != SC_STORE_APPLICATION_ID)
        return sc_fail("store %s: an SQLite database of another application (application_id "
                       "0x%08llx), not a facedb store: refusing to touch it", st->path,
                       (unsigned long long)app & 0xffffffffu);
    if (version > SC_STORE_FORMAT)
        return sc_fail("store %s: format %lld, written by a newer facedb (this one reads format "
                       "%d)", st->path, version, SC_STORE_FORMAT);
    if (version < 1)
        return sc_fail("store %s: format %lld is not a valid facedb format: the file is "
                       "damaged", st->path, version);
    SC_TRY(check_schema(st));
    st->format = (int)version;
    st->checked_from = LLONG_MAX; /* format 1: no template has a checksum */
    if (version >= 2) {
        char from[32], *end;
        SC_TRY(get_value(st, "checked_from", from, sizeof from));
        st->checked_from = strtoll(from, &end, 10);
        if (!from[0] || *end || st->checked_from < 1)
            return sc_fail("store %s: its checked_from record ('%s') is damaged", st->path, from);
    }
    if (st->readonly)
        return SC_OK; /* reading only: the log mode is the writers' business (an immutable
                         file reports "delete" whatever its header says) */
    /* WAL is a property of the file; set once, checked every time. */
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "PRAGMA journal_mode = WAL"));
    int rc = sqlite3_step(s);
    int wal = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return sc_store_fail(st, rc, "switching to WAL");
    if (!wal)
        return sc_fail("store %s: cannot use write-ahead logging (is it on a network file "
                       "system?)", st->path);
    return SC_OK;
}

static int forced_media = -1;

void sc_store_force_readonly_media(int on) { forced_media = on; }

static int on_readonly_media(const char *path)
{
    if (forced_media >= 0)
        return forced_media;
    struct statvfs v;
    return statvfs(path, &v) == 0 && (v.f_flag & ST_RDONLY);
}

/* Opens st->path for reading only: as immutable on read-only media ("file:" URI, with the
 * characters a URI gives meaning to escaped, and an empty authority before an absolute path
 * so that one starting "//" is not read as a host), else as a read-only connection. */
static int open_readonly(sc_store *st)
{
    int immutable = on_readonly_media(st->path);
    char uri[3 * sizeof st->path + 32];
    size_t n = (size_t)snprintf(uri, sizeof uri, "%s", st->path[0] == '/' ? "file://" : "file:");
    for (const char *c = st->path; *c; c++)
        n += (size_t)(*c == '%' || *c == '?' || *c == '#'
                          ? snprintf(uri + n, sizeof uri - n, "%%%02X", (unsigned char)*c)
                          : snprintf(uri + n, sizeof uri - n, "%c", *c));
    snprintf(uri + n, sizeof uri - n, "%s", immutable ? "?immutable=1" : "");
    st->readonly = immutable ? 2 : 1;
    int r = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    return r == SQLITE_OK ? SC_OK : sc_store_fail(st, r, "opening for reading");
}

int sc_store_open(sc_store **out, const char *path, unsigned flags)
{
    *out = NULL;
    sc_store *st = calloc(1, sizeof *st);
    if (!st)
        return sc_fail("out of memory");
    snprintf(st->path, sizeof st->path, "%s", path);
    struct stat sb;
    int rc = SC_OK;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            rc = sc_fail("store %s: %s", path, strerror(errno));
        else if (!(flags & SC_STORE_CREATE))
            rc = sc_fail("no store at %s (the first enroll creates it)", path);
        else
            rc = create_private(st);
        if (rc == SC_OK && stat(path, &sb) != 0)
            rc = sc_fail("store %s: %s", path, strerror(errno));
    }
    if (rc == SC_OK && !S_ISREG(sb.st_mode))
        rc = sc_fail("store %s is not a regular file", path);
    if (rc == SC_OK)
        rc = sniff(st, sb.st_size);
    if (rc == SC_OK && (sb.st_mode & 077))
        snprintf(st->warning, sizeof st->warning,
                 "store %s can be read by other users (mode %04o): chmod 600 it", path,
                 (unsigned)(sb.st_mode & 0777));
    int readonly = (flags & SC_STORE_READONLY) &&
                   (on_readonly_media(path) || access(path, W_OK) != 0);
    if (rc == SC_OK && readonly) {
        rc = open_readonly(st);
    } else if (rc == SC_OK) {
        int r = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE, NULL);
        if (r != SQLITE_OK)
            rc = sc_store_fail(st, r, "opening");
    }
    if (rc == SC_OK)
        rc = configure(st);
    if (rc == SC_OK)
        rc = validate(st, flags);
    int code = rc != SC_OK && st->db ? sqlite3_extended_errcode(st->db) & 0xff : SQLITE_OK;
    if (st->readonly == 1 && (code == SQLITE_READONLY || code == SQLITE_CANTOPEN))
        rc = sc_fail("store %s: cannot be read by this user: its write-ahead log needs %s-shm "
                     "beside it, which only a user who may write to its folder can create "
                     "(%s). Give this user write access to the folder, or serve the store "
                     "from read-only media (it is then read as it is)",
                     path, path, sqlite3_errmsg(st->db));
    if (rc != SC_OK) {
        sc_store_close(st);
        return SC_ERR;
    }
    *out = st;
    return SC_OK;
}

void sc_store_close(sc_store *st)
{
    if (!st)
        return;
    if (st->db)
        sqlite3_close_v2(st->db);
    free(st);
}

const char *sc_store_path(const sc_store *st) { return st->path; }
const char *sc_store_warning(const sc_store *st) { return st->warning; }

int sc_store_begin(sc_store *st, int write)
{
    return sc_store_exec(st, write ? "BEGIN IMMEDIATE" : "BEGIN",
                         write ? "starting a write transaction" : "starting a read transaction");
}

int sc_store_commit(sc_store *st) { return sc_store_exec(st, "COMMIT", "committing"); }

void sc_store_rollback(sc_store *st)
{
    if (st && st->db && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- the model binding ---------------------------------------------------------------- */

static int get_value(sc_store *st, const char *key, char *buf, size_t size)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "SELECT value FROM store WHERE key = ?1"));
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    buf[0] = '\0';
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sc_store_fail(st, rc, "reading the store's model");
    return SC_OK;
}

static int set_value(sc_store *st, const char *key, const char *value)
{
    sqlite3_stmt *s;
    SC_TRY(sc_store_prepare(st, &s, "INSERT OR REPLACE INTO store (key, value) VALUES (?1, ?2)"));
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SC_OK : sc_store_fail(st, rc, "recording the store's model");
}

int sc_store_get_model(sc_store *st, sc_store_model *m)
{
    char dim[32];
    memset(m, 0, sizeof *m);
    SC_TRY(get_value(st, "model", m->fingerprint, sizeof m->fingerprint));
    SC_TRY(get_value(st, "model_name", m->name, sizeof m->name));
    SC_TRY(get_value(st, "dim", dim, sizeof dim));
    m->dim = atoi(dim);
    if (m->fingerprint[0] && (strlen(m->fingerprint) != 16 || m->dim < 1))
        return sc_fail("store %s: its model record is damaged (model '%s', dim '%s')", st->path,
                       m->fingerprint, dim);
    return SC_OK;
}

int sc_store_check_model(sc_store *st, const sc_model_info *info, const char *model_name)
{
    sc_store_model m;
    SC_TRY(sc_store_get_model(st, &m));
    if (!m.fingerprint[0] || strcmp(m.fingerprint, info->fingerprint) == 0)
        return SC_OK;
    if (model_name && m.name[0] && strcmp(model_name, m.name) == 0)
        return sc_fail("store %s was built with model %s, read from %s, but that file now holds "
                       "model %s: it was replaced. Put the original checkpoint back (or give "
                       "its new place with --model), or start a new store and enroll everyone "
                       "again", st->path, m.fingerprint, m.name, info->fingerprint);
    return sc_fail("store %s was built with model %s (%s, %d-dimensional embeddings), but %s is "
                   "model %s: embeddings of different models cannot be compared. Use --model "
                   "%s, or start a new store (--db NEW) and enroll everyone again from their "
                   "photos: the store keeps only hashes of the photos, so it cannot re-enroll "
                   "them itself",
                   st->path, m.fingerprint, m.name[0] ? m.name : "unnamed", m.dim,
                   model_name ? model_name : "this checkpoint", info->fingerprint,
                   m.name[0] ? m.name : "<the original checkpoint>");
}

int sc_store_bind_model(sc_store *st, const sc_model_info *info, const char *model_name)
{
    sc_store_model m;
    SC_TRY(sc_store_get_model(st, &m));
    if (m.fingerprint[0])
        return sc_store_check_model(st, info, model_name);
    char dim[32];
    snprintf(dim, sizeof dim, "%d", info->dim);
    SC_TRY(set_value(st, "model", info->fingerprint));
    SC_TRY(set_value(st, "dim", dim));
    return set_value(st, "model_name", model_name ? model_name : "");
}
