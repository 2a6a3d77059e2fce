#include "lines.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sc_lines_open(sc_lines *L, const char *path)
{
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    memset(L, 0, sizeof *L);
    L->path = path;
    if (sc_file_read(path, &buf, &cap, &n) != SC_OK) {
        free(buf);
        return SC_ERR;
    }
    if (memchr(buf, 0, n)) {
        free(buf);
        return sc_fail("%s: binary data (NUL byte) in a text list", path);
    }
    char *text = realloc(buf, n + 1);
    if (!text) {
        free(buf);
        return sc_fail("%s: out of memory", path);
    }
    text[n] = '\0';
    L->buf = text;
    L->n = n;
    return SC_OK;
}

void sc_lines_close(sc_lines *L)
{
    free(L->buf);
    L->buf = NULL;
}

int sc_lines_next(sc_lines *L, char **f, int *nf)
{
    *nf = 0;
    if (L->pos >= L->n)
        return 0;
    char *s = L->buf + L->pos, *end = memchr(s, '\n', L->n - L->pos);
    if (end) {
        *end = '\0';
        L->pos = (size_t)(end - L->buf) + 1;
    } else {
        end = L->buf + L->n;
        L->pos = L->n;
    }
    L->line++;
    if (end > s && end[-1] == '\r')
        *--end = '\0';
    char *p = s;
    for (;;) {
        while (*p == '\t' || *p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (*nf == SC_LINE_FIELDS) {
            *nf = SC_LINE_FIELDS + 1;
            break;
        }
        f[(*nf)++] = p;
        while (*p && *p != '\t' && *p != ' ')
            p++;
    }
    return 1;
}

int sc_lines_expect_end(sc_lines *L)
{
    char *f[SC_LINE_FIELDS];
    int nf;
    while (sc_lines_next(L, f, &nf))
        if (nf != 0)
            return sc_lines_fail(L, "unexpected extra line (the counts above say the list ended)");
    return SC_OK;
}

int sc_lines_fail(const sc_lines *L, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sc_fail("%s:%d: %s", L->path, L->line, msg);
}

int sc_lines_int(const sc_lines *L, const char *s, int lo, int hi, const char *what, int *v)
{
    long x = 0;
    const char *p = s;
    if (!*p)
        return sc_lines_fail(L, "missing %s", what);
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return sc_lines_fail(L, "%s '%s' is not a non-negative whole number", what, s);
        if (x <= 1000000000L)
            x = x * 10 + (*p - '0');
    }
    if (x < lo || x > hi)
        return sc_lines_fail(L, "%s %s outside %d..%d", what, s, lo, hi);
    *v = (int)x;
    return SC_OK;
}

int sc_lines_name(const sc_lines *L, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return sc_lines_fail(L, "person name of length %zu", n);
    if (s[0] == '.' || strstr(s, ".."))
        return sc_lines_fail(L, "person name '%s' %s (names must stay inside the data folder)",
                             s, s[0] == '.' ? "starts with '.'" : "contains '..'");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
            return sc_lines_fail(L, "person name '%s' contains '%s' (names must stay inside "
                                    "the data folder)", s,
                                 *p == '/' ? "/" : *p == '\\' ? "\\" : "a control character");
    return SC_OK;
}
