/* Prepared-image cache: one file per (image list with sizes and mtimes, preparation
 * parameters). Validated on load (magic, version, key, sizes, header and payload checksums);
 * anything off means "rebuild", never "trust". The file is in this machine's byte order: a
 * cache is local, not an exchange format. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "siamcl/data.h"

#define CACHE_MAGIC "SCDATA\0\1"
#define CACHE_VERSION 2u /* 2: JPEGs turned upright by their EXIF orientation */

typedef struct cache_header {
    char magic[8];
    uint32_t version;
    uint32_t header_bytes;
    uint64_t key;
    uint32_t count;
    uint32_t size;
    uint64_t payload_bytes;
    uint64_t payload_sum;
    uint64_t header_sum; /* FNV-1a over everything above */
} cache_header;

static uint64_t header_sum(const cache_header *h)
{
    return sc_fnv1a(SC_FNV_INIT, h, offsetof(cache_header, header_sum));
}

int sc_dataset_cache_key(const char *root, const char *const *relpaths, int n, const sc_prep *prep,
                         uint64_t *key)
{
    /* Bump the tag whenever decoding or resizing changes what a cache would hold. */
    uint64_t h = sc_fnv1a_str(SC_FNV_INIT, "siamcl-dataset-v1 area/bilinear rgb8 chw");
    h = sc_fnv1a_u64(h, (uint64_t)prep->size);
    int whole = prep->crop_w <= 0 || prep->crop_h <= 0;
    h = sc_fnv1a_u64(h, whole ? 0 : (uint64_t)(uint32_t)prep->crop_x);
    h = sc_fnv1a_u64(h, whole ? 0 : (uint64_t)(uint32_t)prep->crop_y);
    h = sc_fnv1a_u64(h, whole ? 0 : (uint64_t)(uint32_t)prep->crop_w);
    h = sc_fnv1a_u64(h, whole ? 0 : (uint64_t)(uint32_t)prep->crop_h);
    h = sc_fnv1a_u64(h, (uint64_t)n);
    size_t rl = strlen(root);
    char *path = malloc(rl + 4096 + 2);
    if (!path)
        return sc_fail("out of memory");
    for (int i = 0; i < n; i++) {
        struct stat st;
        snprintf(path, rl + 4096 + 2, "%s/%s", root, relpaths[i]);
        if (stat(path, &st) != 0) {
            int rc = sc_fail("%s: cannot stat: %s", path, strerror(errno));
            free(path);
            return rc;
        }
        h = sc_fnv1a_str(h, relpaths[i]);
        h = sc_fnv1a_u64(h, (uint64_t)st.st_size);
        h = sc_fnv1a_u64(h, (uint64_t)st.st_mtim.tv_sec);
        h = sc_fnv1a_u64(h, (uint64_t)st.st_mtim.tv_nsec);
    }
    free(path);
    *key = h;
    return SC_OK;
}

/* realpath() of the path, or of its deepest existing ancestor with the rest appended, so a
 * folder that does not exist yet can still be located. */
static int resolve(const char *path, char *out, size_t size)
{
    char buf[PATH_MAX], real[PATH_MAX], rest[PATH_MAX] = "";
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return sc_fail("path too long: %s", path);
    for (;;) {
        if (realpath(buf[0] ? buf : ".", real)) {
            if (snprintf(out, size, "%s%s", real, rest) >= (int)size)
                return sc_fail("path too long: %s", path);
            return SC_OK;
        }
        char *slash = strrchr(buf, '/');
        char tmp[2 * PATH_MAX + 2];
        int len = snprintf(tmp, sizeof tmp, "/%s%s", slash ? slash + 1 : buf, rest);
        if (len < 0 || len >= (int)sizeof rest)
            return sc_fail("path too long: %s", path);
        memcpy(rest, tmp, (size_t)len + 1);
        if (!slash) {
            buf[0] = '\0';
        } else if (slash == buf) {
            buf[1] = '\0'; /* the root folder itself */
        } else {
            *slash = '\0';
        }
    }
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return sc_fail("cache folder path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return sc_fail("cannot create cache folder %s: %s", buf, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sc_fail("cache folder %s is not a folder", path);
    return SC_OK;
}

int sc_cache_dir_ready(const char *cache_dir, const char *root)
{
    char c[PATH_MAX], r[PATH_MAX];
    SC_TRY(resolve(cache_dir, c, sizeof c));
    SC_TRY(resolve(root, r, sizeof r));
    size_t rl = strlen(r);
    if (strcmp(r, "/") == 0 || (strncmp(c, r, rl) == 0 && (c[rl] == '\0' || c[rl] == '/')))
        return sc_fail("cache folder %s is inside the data folder %s: caches are never written "
                       "next to the data (use the project's cache/ folder)", cache_dir, root);
    return mkdirs(cache_dir);
}

static int read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return SC_ERR;
        got += (size_t)r;
    }
    return SC_OK;
}

static int write_all(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SC_ERR;
        done += (size_t)w;
    }
    return SC_OK;
}

int sc_cache_load(const char *path, uint64_t key, int count, int size, uint8_t *host, char *note,
                  size_t note_size)
{
    note[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno != ENOENT)
            snprintf(note, note_size, "cannot open %s: %s", path, strerror(errno));
        return 0;
    }
    cache_header h;
    struct stat st;
    size_t payload = (size_t)count * 3 * (size_t)size * (size_t)size;
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || read_all(fd, &h, sizeof h) != SC_OK)
        why = "shorter than its header";
    else if (memcmp(h.magic, CACHE_MAGIC, 8) != 0)
        why = "not a siamcl dataset cache (bad magic)";
    else if (h.version != CACHE_VERSION || h.header_bytes != sizeof h)
        why = "written by another version";
    else if (h.header_sum != header_sum(&h))
        why = "header checksum mismatch";
    else if (h.key != key || h.count != (uint32_t)count || h.size != (uint32_t)size)
        why = "made for other inputs";
    else if (h.payload_bytes != payload || (uint64_t)st.st_size != sizeof h + payload)
        why = "wrong size (truncated or padded)";
    else if (read_all(fd, host, payload) != SC_OK)
        why = "read failed";
    else if (sc_checksum64(host, payload) != h.payload_sum)
        why = "payload checksum mismatch (damaged)";
    close(fd);
    if (why) {
        snprintf(note, note_size, "cache %s rejected: %s", path, why);
        return 0;
    }
    return 1;
}

int sc_cache_save(const char *path, uint64_t key, int count, int size, const uint8_t *host)
{
    size_t payload = (size_t)count * 3 * (size_t)size * (size_t)size;
    cache_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.header_bytes = sizeof h;
    h.key = key;
    h.count = (uint32_t)count;
    h.size = (uint32_t)size;
    h.payload_bytes = payload;
    h.payload_sum = sc_checksum64(host, payload);
    h.header_sum = header_sum(&h);

    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return sc_fail("cache path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return sc_fail("cannot create %s: %s", tmp, strerror(errno));
    int ok = write_all(fd, &h, sizeof h) == SC_OK && write_all(fd, host, payload) == SC_OK;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return sc_fail("writing cache %s failed: %s", path, strerror(e));
    }
    chmod(path, 0644); /* mkstemp makes 0600; the cache is not secret */
    return SC_OK;
}
