/* The enrollment store (SQLite, one file) and the facedb commands built on it.
 *
 * The file: people (id, unique name, created), their templates (embedding, the fingerprint
 * of the model that made it, the FNV-1a 64 hash of the source photo's bytes, created) and the
 * model the store is bound to (fingerprint, embedding size, the checkpoint's name). Marked
 * with PRAGMA application_id 'SCFD' and user_version = format; anything else is refused
 * before it is touched. Created with mode 0600 (SQLite gives its -wal and -shm files the
 * same mode). WAL journal: readers never wait for the one writer and see the last commit.
 * synchronous = FULL: a commit that returned survives a power cut, not only a crash.
 *
 * Every command is one transaction: a process killed at any moment leaves either the whole
 * command or none of it. Photos are never stored (only their hashes), so a store built with
 * one model cannot be re-enrolled with another from its own contents: enrolling with a
 * different model is refused with what to do instead. */
#ifndef SIAMCL_GALLERY_STORE_H
#define SIAMCL_GALLERY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "siamcl/gallery.h"

#define SC_STORE_APPLICATION_ID 0x53434644 /* "SCFD" */
/* Format 2: each template's blob ends with an 8-byte checksum of its floats (sc_checksum64;
 * rows written while the store was at format 1 have none; "checked_from" in the store table
 * is the first template id that must). A format 1 store is raised to 2 by its next write. */
#define SC_STORE_FORMAT 2
#define SC_NAME_MAX 256                    /* bytes of a person's name */

typedef struct sc_store sc_store;

enum {
    SC_STORE_CREATE = 1,  /* create the file when it does not exist */
    SC_STORE_READONLY = 2 /* only read: also from read-only media or a file not writable */
};

/* Opens (or creates) a store, refusing a missing file (without SC_STORE_CREATE), a file that
 * is not SQLite, another application's database, a newer format, an unexpected schema or a
 * damaged file, each with a message naming the file and what to do.
 * SC_STORE_READONLY (the door's verify and identify, list, check): a file on read-only media
 * (a store copied to a terminal and mounted read-only) is read as immutable, since SQLite
 * cannot create the -wal and -shm files its write-ahead log needs there and nothing can
 * change the file; a file this user may not write is opened read-only. Elsewhere it is
 * opened as for writing, so that closing it tidies the log files away; writes then fail
 * with a message either way. */
int sc_store_open(sc_store **out, const char *path, unsigned flags);
/* Test hook: 1 treats every file as on read-only media, 0 none, -1 asks the file system. */
void sc_store_force_readonly_media(int on);
void sc_store_close(sc_store *st);
const char *sc_store_path(const sc_store *st);
/* A note worth printing (file readable by others, ...), "" when none. */
const char *sc_store_warning(const sc_store *st);

/* Transactions: write = 1 takes the write lock at once (BEGIN IMMEDIATE, waiting up to the
 * busy timeout for another writer); write = 0 is a read snapshot. */
int sc_store_begin(sc_store *st, int write);
int sc_store_commit(sc_store *st);
void sc_store_rollback(sc_store *st);

typedef struct sc_store_model {
    char fingerprint[SC_FINGERPRINT_LEN]; /* "" while nobody is enrolled */
    int dim;
    char name[1024]; /* the checkpoint the store was built with (as given then) */
} sc_store_model;

int sc_store_get_model(sc_store *st, sc_store_model *m);
/* Refuses a model other than the store's (unbound stores accept any). */
int sc_store_check_model(sc_store *st, const sc_model_info *info, const char *model_name);
/* In a write transaction: binds an unbound store to this model, else sc_store_check_model. */
int sc_store_bind_model(sc_store *st, const sc_model_info *info, const char *model_name);

/* Names: 1 .. SC_NAME_MAX bytes of UTF-8 text without control characters, not starting or
 * ending with a space. */
int sc_person_name_check(const char *name);

/* 1 found (*id set), 0 not found. */
int sc_store_person_find(sc_store *st, const char *name, long long *id);
int sc_store_person_add(sc_store *st, const char *name, long long *id);
/* 1 removed (with its templates), 0 unknown. */
int sc_store_person_remove(sc_store *st, const char *name);
/* 1 renamed, 0 `from` unknown; SC_ERR when `to` is taken or invalid. */
int sc_store_person_rename(sc_store *st, const char *from, const char *to);
/* *duplicate = 1 (and nothing added) when this person already has a template from a photo
 * with the same hash under the same model. */
int sc_store_template_add(sc_store *st, long long person, const float *emb, int dim,
                          const char *fingerprint, uint64_t photo_hash, int *duplicate);
/* All templates of a person: *emb [*n, dim] malloc'ed. */
int sc_store_person_templates(sc_store *st, long long person, int dim, float **emb, int *n);

typedef struct sc_person_info {
    char name[SC_NAME_MAX + 1];
    long long id, created; /* created: seconds since the epoch */
    int templates;
} sc_person_info;

/* Everyone, by name; *out malloc'ed. */
int sc_store_list(sc_store *st, sc_person_info **out, int *n);
int sc_store_counts(sc_store *st, long long *people, long long *templates);
/* Every template into a gallery initialised with the store's dimension. */
int sc_store_load(sc_store *st, sc_gallery *g);
/* PRAGMA integrity_check, foreign keys, template sizes and models; SC_OK when all is well,
 * else SC_ERR with the first problems in the message. */
int sc_store_check(sc_store *st);

/* ---- the facedb commands (library side: no printing, no exit codes) ---------------------- */

typedef struct sc_enroll_result {
    long long person;
    int created;    /* 1: a new person */
    int added;      /* templates added */
    int duplicates; /* photos already enrolled for this person (skipped) */
} sc_enroll_result;

/* Embeds the photos (all of them, before touching the store: an unreadable photo enrolls
 * nothing) and adds them to `name` in one write transaction. An existing name is an error
 * unless add_to_existing. */
int sc_facedb_enroll(sc_store *st, sc_embedder *em, const char *name, const char *const *photos,
                     int n, int add_to_existing, sc_enroll_result *r);
/* The embedding part: the photos' embeddings (*emb, n x em->dim) and file hashes (*hashes),
 * malloc'ed; on failure nothing is left allocated. facedb embeds before it creates a new
 * store, so that a bad photo leaves no file behind. */
int sc_facedb_embed_photos(sc_embedder *em, const char *name, const char *const *photos, int n,
                           float **emb, uint64_t **hashes);
/* The transaction part, for embeddings already computed (tests, tools). */
int sc_facedb_enroll_embeddings(sc_store *st, const sc_model_info *info, const char *model_name,
                                const char *name, const float *emb, const uint64_t *hashes,
                                int n, int add_to_existing, sc_enroll_result *r);

typedef struct sc_verify_result {
    int known;       /* the claimed name is enrolled */
    int accept;      /* known and distance <= threshold */
    double distance; /* to the nearest template of the claimed person (INF when unknown) */
} sc_verify_result;

/* n claims (names[i] is photos[i]) in one read transaction, photos embedded in one batch. */
int sc_facedb_verify(sc_store *st, sc_embedder *em, const char *const *names,
                     const char *const *photos, int n, double threshold, sc_verify_result *r);

/* Loads the store into g (initialised here; free it with sc_gallery_free), embeds the photos
 * and finds each one's k nearest people: out [n, k], found [n] (see sc_gallery_identify). */
int sc_facedb_identify(sc_store *st, sc_embedder *em, const char *const *photos, int n, int k,
                       sc_gallery *g, sc_match *out, int *found);

#endif
