/* Just enough JSON for metrics.json and metrics.jsonl: one flat object per call. */
#include "siamcl/eval.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/util.h"

static void put(sc_json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (j->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) {
            j->failed = 1;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(sc_json *j, const char *s) { put(j, s, strlen(s)); }

static void putf(sc_json *j, const char *fmt, ...) SC_PRINTF(2, 3);
static void putf(sc_json *j, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(j, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_string(sc_json *j, const char *s)
{
    puts_(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(j, e, 2);
        } else if (*p < 0x20) {
            putf(j, "\\u%04x", *p);
        } else {
            put(j, (const char *)p, 1);
        }
    }
    puts_(j, "\"");
}

static void put_number(sc_json *j, double v)
{
    if (isfinite(v))
        putf(j, "%.10g", v);
    else
        puts_(j, "null");
}

static void key(sc_json *j, const char *k)
{
    if (j->fields++)
        puts_(j, ", ");
    put_string(j, k);
    puts_(j, ": ");
}

void sc_json_begin(sc_json *j)
{
    *j = (sc_json){0};
    puts_(j, "{");
}

void sc_json_num(sc_json *j, const char *k, double v)
{
    key(j, k);
    put_number(j, v);
}

void sc_json_int(sc_json *j, const char *k, long long v)
{
    key(j, k);
    putf(j, "%lld", v);
}

void sc_json_str(sc_json *j, const char *k, const char *v)
{
    key(j, k);
    put_string(j, v ? v : "");
}

void sc_json_bool(sc_json *j, const char *k, int v)
{
    key(j, k);
    puts_(j, v ? "true" : "false");
}

void sc_json_nums(sc_json *j, const char *k, const double *v, size_t n)
{
    key(j, k);
    puts_(j, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            puts_(j, ", ");
        put_number(j, v[i]);
    }
    puts_(j, "]");
}

const char *sc_json_end(sc_json *j)
{
    if (!j->closed)
        puts_(j, "}");
    j->closed = 1;
    return j->failed ? NULL : j->buf;
}

static const char *text_of(sc_json *j, const char *path)
{
    if (!sc_json_end(j)) {
        sc_fail("%s: out of memory building JSON", path);
        return NULL;
    }
    return j->buf;
}

int sc_json_write(sc_json *j, const char *path)
{
    const char *text = text_of(j, path);
    if (!text)
        return SC_ERR;
    char tmp[PATH_MAX];
    FILE *f;
    SC_TRY(sc_atomic_open(path, tmp, sizeof tmp, &f));
    fprintf(f, "%s\n", text);
    return sc_atomic_commit(f, tmp, path);
}

int sc_json_append(sc_json *j, const char *path)
{
    const char *text = text_of(j, path);
    if (!text)
        return SC_ERR;
    FILE *f = fopen(path, "a");
    if (!f)
        return sc_fail("%s: cannot open for appending: %s", path, strerror(errno));
    /* one write per line so a concurrent reader sees whole lines */
    int bad = fprintf(f, "%s\n", text) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        return sc_fail("%s: append failed: %s", path, strerror(e));
    return SC_OK;
}

void sc_json_free(sc_json *j)
{
    free(j->buf);
    *j = (sc_json){0};
}
