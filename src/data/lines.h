/* Line-by-line reading of the LFW list files, with line numbers for messages. */
#ifndef SIAMCL_DATA_LINES_H
#define SIAMCL_DATA_LINES_H

#include <stddef.h>

#define SC_LINE_FIELDS 4

typedef struct sc_lines {
    char *buf;
    size_t n, pos;
    int line; /* 1-based number of the line last returned */
    const char *path;
} sc_lines;

/* Reads the whole file; fails on unreadable or binary (NUL-containing) files. */
int sc_lines_open(sc_lines *L, const char *path);
void sc_lines_close(sc_lines *L);
/* The next line split on tabs/spaces into at most SC_LINE_FIELDS fields (the line is
 * modified in place). Returns 1 with *nf fields (0 for a blank line, SC_LINE_FIELDS + 1 when
 * there are more), or 0 at the end of the file. */
int sc_lines_next(sc_lines *L, char **f, int *nf);
/* Fails unless only blank lines remain. */
int sc_lines_expect_end(sc_lines *L);

/* "<path>:<line>: <message>" */
int sc_lines_fail(const sc_lines *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A decimal count in [lo, hi] (digits only), or an error naming the line. */
int sc_lines_int(const sc_lines *L, const char *s, int lo, int hi, const char *what, int *v);
/* A person name that stays inside the data folder: no '/', '\\', control characters, and
 * not starting with '.' (so "." and ".." are out). */
int sc_lines_name(const sc_lines *L, const char *s);

#endif
