/* Image front door: format sniffing, limits, file reading. The decoders live in decode_*.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "siamcl/image.h"

#define SC_FILE_MAX ((size_t)256 << 20)

sc_image_format sc_image_sniff(const uint8_t *buf, size_t n)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return SC_IMAGE_JPEG;
    if (n >= 8 && memcmp(buf, png_magic, 8) == 0)
        return SC_IMAGE_PNG;
    if (n >= 3 && buf[0] == 'P' && buf[1] == '5' &&
        (buf[2] == ' ' || buf[2] == '\t' || buf[2] == '\n' || buf[2] == '\r' || buf[2] == '#'))
        return SC_IMAGE_PGM;
    return SC_IMAGE_UNKNOWN;
}

const char *sc_image_format_name(sc_image_format f)
{
    switch (f) {
    case SC_IMAGE_JPEG: return "JPEG";
    case SC_IMAGE_PNG: return "PNG";
    case SC_IMAGE_PGM: return "PGM";
    default: return "unknown";
    }
}

int sc_image_alloc(sc_image *out, long w, long h, const char *name, const char *what)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (w <= 0 || h <= 0)
        return sc_fail("%s: %s image has zero or negative size %ldx%ld", name, what, w, h);
    if (w > SC_IMAGE_MAX_SIDE || h > SC_IMAGE_MAX_SIDE ||
        (size_t)w * (size_t)h > SC_IMAGE_MAX_PIXELS)
        return sc_fail("%s: %s image of %ldx%ld exceeds the limit (%d per side, %zu pixels)",
                       name, what, w, h, SC_IMAGE_MAX_SIDE, SC_IMAGE_MAX_PIXELS);
    out->px = malloc((size_t)w * (size_t)h * 3);
    if (!out->px)
        return sc_fail("%s: out of memory for a %ldx%ld image", name, w, h);
    out->w = (int)w;
    out->h = (int)h;
    return SC_OK;
}

void sc_image_free(sc_image *img)
{
    if (!img)
        return;
    free(img->px);
    img->px = NULL;
    img->w = img->h = 0;
}

int sc_image_decode(const uint8_t *buf, size_t n, const char *name, sc_image *out)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (!name)
        name = "(memory)";
    if (n == 0)
        return sc_fail("%s: empty file", name);
    switch (sc_image_sniff(buf, n)) {
    case SC_IMAGE_JPEG: return sc_decode_jpeg(buf, n, name, out);
    case SC_IMAGE_PNG: return sc_decode_png(buf, n, name, out);
    case SC_IMAGE_PGM: return sc_decode_pgm(buf, n, name, out);
    default:
        return sc_fail("%s: unknown image format (not JPEG, PNG or binary PGM by content; first "
                       "bytes %02x %02x %02x %02x)", name, buf[0], n > 1 ? buf[1] : 0,
                       n > 2 ? buf[2] : 0, n > 3 ? buf[3] : 0);
    }
}

int sc_file_read(const char *path, uint8_t **buf, size_t *cap, size_t *n)
{
    *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return sc_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sc_fail("%s: not a regular file", path);
    }
    if ((size_t)st.st_size > SC_FILE_MAX) {
        close(fd);
        return sc_fail("%s: file of %lld bytes is larger than the %zu MiB limit", path,
                       (long long)st.st_size, SC_FILE_MAX >> 20);
    }
    size_t want = (size_t)st.st_size;
    if (*cap < want || !*buf) {
        uint8_t *p = realloc(*buf, want ? want : 1);
        if (!p) {
            close(fd);
            return sc_fail("%s: out of memory reading %zu bytes", path, want);
        }
        *buf = p;
        *cap = want ? want : 1;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, *buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            return sc_fail("%s: read failed after %zu of %zu bytes: %s", path, got, want,
                           r < 0 ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    *n = got;
    return SC_OK;
}

int sc_image_load(const char *path, sc_image *out)
{
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    out->w = out->h = 0;
    out->px = NULL;
    int rc = sc_file_read(path, &buf, &cap, &n);
    if (rc == SC_OK)
        rc = sc_image_decode(buf, n, path, out);
    free(buf);
    return rc;
}

/* Display pixel (x, y) of the upright image comes from stored pixel (sx, sy) of the w x h
 * image: EXIF 2 mirrors, 3 turns 180 degrees, 4 flips, 5 transposes, 6 turns 90 degrees
 * clockwise, 7 transverses, 8 turns 90 degrees counter-clockwise. */
int sc_image_orient(sc_image *img, int o, const char *name)
{
    int w = img->w, h = img->h, swap = o >= 5;
    int W = swap ? h : w, H = swap ? w : h;
    uint8_t *px = malloc((size_t)W * H * 3);
    if (!px) {
        sc_image_free(img);
        return sc_fail("%s: out of memory turning the image upright", name);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx, sy;
            switch (o) {
            case 2: sx = w - 1 - x, sy = y; break;
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;
            case 4: sx = x, sy = h - 1 - y; break;
            case 5: sx = y, sy = x; break;
            case 6: sx = y, sy = h - 1 - x; break;
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;
            case 8: sx = w - 1 - y, sy = x; break;
            default: sx = x, sy = y;
            }
            memcpy(px + ((size_t)y * W + x) * 3, img->px + ((size_t)sy * w + sx) * 3, 3);
        }
    free(img->px);
    img->px = px, img->w = W, img->h = H;
    return SC_OK;
}
