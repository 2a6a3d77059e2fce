/* Binary PGM (P5): "P5 <w> <h> <maxval>" with '#' comments, one whitespace byte, then
 * samples (1 byte when maxval < 256, else 2 bytes big-endian). Grey becomes RGB. */
#include <stdlib.h>

#include "internal.h"

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skips whitespace and comments, then reads a decimal number (clamped so huge values stay
 * huge rather than wrapping). */
static int header_number(const uint8_t *b, size_t n, size_t *pos, long *v)
{
    size_t i = *pos;
    for (;;) {
        while (i < n && is_space(b[i]))
            i++;
        if (i < n && b[i] == '#') {
            while (i < n && b[i] != '\n' && b[i] != '\r')
                i++;
            continue;
        }
        break;
    }
    if (i >= n || b[i] < '0' || b[i] > '9')
        return SC_ERR;
    long x = 0;
    while (i < n && b[i] >= '0' && b[i] <= '9') {
        if (x < 1000000000L)
            x = x * 10 + (b[i] - '0');
        i++;
    }
    *v = x;
    *pos = i;
    return SC_OK;
}

int sc_decode_pgm(const uint8_t *buf, size_t n, const char *name, sc_image *out)
{
    size_t pos = 2; /* after "P5" */
    long w, h, maxval;
    out->px = NULL;
    out->w = out->h = 0;
    if (header_number(buf, n, &pos, &w) || header_number(buf, n, &pos, &h) ||
        header_number(buf, n, &pos, &maxval))
        return sc_fail("%s: malformed or truncated PGM header", name);
    if (pos >= n || !is_space(buf[pos]))
        return sc_fail("%s: malformed PGM header (no whitespace after maxval)", name);
    pos++;
    if (maxval < 1 || maxval > 65535)
        return sc_fail("%s: PGM maxval %ld outside 1..65535", name, maxval);
    SC_TRY(sc_image_alloc(out, w, h, name, "PGM"));
    size_t bps = maxval < 256 ? 1 : 2, count = (size_t)w * (size_t)h;
    if (n - pos < count * bps) {
        sc_image_free(out);
        return sc_fail("%s: truncated PGM: %zu bytes of pixel data, %zu expected", name, n - pos,
                       count * bps);
    }
    const uint8_t *src = buf + pos;
    unsigned m = (unsigned)maxval;
    for (size_t i = 0; i < count; i++) {
        unsigned v = bps == 1 ? src[i] : (unsigned)src[2 * i] << 8 | src[2 * i + 1];
        if (v > m) {
            sc_image_free(out);
            return sc_fail("%s: PGM sample %u at pixel %zu exceeds maxval %u", name, v, i, m);
        }
        uint8_t g = m == 255 ? (uint8_t)v : (uint8_t)((v * 255u + m / 2) / m);
        out->px[3 * i] = out->px[3 * i + 1] = out->px[3 * i + 2] = g;
    }
    return SC_OK;
}
