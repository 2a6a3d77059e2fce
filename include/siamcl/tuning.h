/* Per-device tuning results (GEMM tile sizes, the faster GEMM backend, CLBlast parameters),
 * kept in one small text file per device so that a search made once serves every later
 * run. The folder: $SIAMCL_CACHE_DIR, else $XDG_CACHE_HOME/siamcl, else ~/.cache/siamcl;
 * SIAMCL_TUNING=off ignores saved values (reads find nothing; writes still work).
 * A device is identified by platform, name, OpenCL version and driver version, so a driver
 * update starts from the defaults again. Files are "key = value" lines, replaced atomically. */
#ifndef SIAMCL_TUNING_H
#define SIAMCL_TUNING_H

#include <stddef.h>

#include "siamcl/runtime.h"

/* The file for ctx's device. Fails when no cache folder can be named (no HOME). */
int sc_tuning_path(const sc_ctx *ctx, char *path, size_t size);
/* 1 and the value when the device's file has `key`, 0 otherwise (no file, no key, off). */
int sc_tuning_get(const sc_ctx *ctx, const char *key, char *value, size_t size);
/* Sets key = value in the device's file (creating folders and file), other keys kept.
 * Keys: letters, digits, '.', '_', '-'; values: one line. */
int sc_tuning_set(const sc_ctx *ctx, const char *key, const char *value);

#endif
