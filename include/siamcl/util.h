/* Host utilities every room may use.
 *
 * Files that appear whole or not at all: write to "<path>.tmp.<pid>", then rename over the
 * target, so a crash or Ctrl-C never leaves a half-written checkpoint, metrics file or PNG
 * behind and a reader never sees one. */
#ifndef SIAMCL_UTIL_H
#define SIAMCL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The temporary name for path. Fails when it does not fit in n bytes. */
int sc_atomic_tmp_name(const char *path, char *tmp, size_t n);

/* Opens the temporary file for writing ("w"); tmp receives its name. */
int sc_atomic_open(const char *path, char *tmp, size_t n, FILE **f);

/* Flushes, fsyncs and closes f, then renames tmp to path. On any failure (including an
 * earlier write error recorded in f) the temporary file is removed and SC_ERR returned. */
int sc_atomic_commit(FILE *f, const char *tmp, const char *path);

/* Renames an already closed temporary file into place (for writers that produce the file
 * themselves, like cairo's PNG writer); removes tmp on failure. */
int sc_atomic_rename(const char *tmp, const char *path);

/* FNV-1a 64 of a byte range, continuing from h (start with SC_FNV_INIT): checkpoint
 * checksums, model fingerprints, cache keys. Not cryptographic. */
#define SC_FNV_INIT 0xcbf29ce484222325ull
unsigned long long sc_fnv1a64(const void *data, size_t n, unsigned long long h);
/* Fast checksum for payloads (cache files, facedb templates): four independent
 * multiply-rotate lanes over 8-byte words, so it runs at memory speed rather than FNV's one
 * byte per multiply. Not cryptographic. */
uint64_t sc_checksum64(const void *data, size_t n);

#endif
