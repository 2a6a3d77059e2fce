#include "siamcl/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/error.h"

int sc_atomic_tmp_name(const char *path, char *tmp, size_t n)
{
    /* The pid keeps two processes writing the same run folder from sharing a temp file. */
    int len = snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= n)
        return sc_fail("%s: path too long", path);
    return SC_OK;
}

int sc_atomic_open(const char *path, char *tmp, size_t n, FILE **f)
{
    SC_TRY(sc_atomic_tmp_name(path, tmp, n));
    *f = fopen(tmp, "w");
    if (!*f)
        return sc_fail("%s: cannot create: %s", tmp, strerror(errno));
    return SC_OK;
}

int sc_atomic_rename(const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return sc_fail("%s: cannot rename into place: %s", path, strerror(e));
    }
    return SC_OK;
}

int sc_atomic_commit(FILE *f, const char *tmp, const char *path)
{
    int bad = ferror(f) || fflush(f) != 0;
    int e = errno;
    if (!bad && fsync(fileno(f)) != 0) {
        bad = 1;
        e = errno;
    }
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        remove(tmp);
        return sc_fail("%s: write failed: %s", path, strerror(e));
    }
    return sc_atomic_rename(tmp, path);
}

unsigned long long sc_fnv1a64(const void *data, size_t n, unsigned long long h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
