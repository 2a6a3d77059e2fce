/* Shared by the store's files only. */
#ifndef SIAMCL_GALLERY_STORE_INTERNAL_H
#define SIAMCL_GALLERY_STORE_INTERNAL_H

#include <sqlite3.h>

#include "siamcl/gallery_store.h"

struct sc_store {
    sqlite3 *db;
    char path[1024];
    char warning[1200];
    int format;              /* the file's user_version */
    int readonly;            /* 1: a read-only connection, 2: read as immutable */
    long long checked_from;  /* templates from this id on carry a checksum */
};

/* Bytes of a template's checksum, after its floats. */
#define SC_TEMPLATE_SUM_BYTES 8

/* "store PATH: WHAT: sqlite's message (hint)" and SC_ERR. */
int sc_store_fail(sc_store *st, int code, const char *what);
int sc_store_exec(sc_store *st, const char *sql, const char *what);
int sc_store_prepare(sc_store *st, sqlite3_stmt **s, const char *sql);

#endif
