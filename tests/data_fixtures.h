/* Test fixtures for the data room: temporary folders and small image files written with the
 * real encoders (libpng, libjpeg), so the decoders are tested against what those libraries
 * produce rather than against files checked into the tree. */
#ifndef SIAMCL_TEST_DATA_FIXTURES_H
#define SIAMCL_TEST_DATA_FIXTURES_H

#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

static inline char *fx_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = malloc(4096);
    cr_assert(t);
    snprintf(t, 4096, "%s/siamcl-data-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(t), "mkdtemp failed");
    return t;
}

static inline int fx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static inline void fx_rmtree(char *dir)
{
    if (dir)
        nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline char *fx_path(const char *dir, const char *name)
{
    char *p = malloc(4096);
    cr_assert(p);
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static inline void fx_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static inline void fx_text(const char *path, const char *text) { fx_write(path, text, strlen(text)); }

static inline uint8_t *fx_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    cr_assert(b);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* PNG of any colour type / depth. samples: per pixel `channels(type)` values in the given
 * depth (palette indices for PALETTE). palette: n_palette RGB triples (PALETTE only). */
static inline void fx_png(const char *path, int w, int h, int type, int depth,
                          const uint16_t *samples, const uint8_t *palette, int n_palette,
                          int interlace, const uint8_t *trns, int n_trns)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < n_palette; i++)
            pal[i] = (png_color){palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]};
        png_set_PLTE(png, info, pal, n_palette);
    }
    if (trns)
        png_set_tRNS(png, info, trns, n_trns, NULL);
    png_write_info(png, info);
    int ch = type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_PALETTE ? 1
             : type == PNG_COLOR_TYPE_GRAY_ALPHA                           ? 2
             : type == PNG_COLOR_TYPE_RGB                                  ? 3
                                                                           : 4;
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    png_bytep *rows = malloc(sizeof *rows * (size_t)h);
    uint8_t *data = calloc((size_t)h, rowbytes);
    for (int y = 0; y < h; y++) {
        rows[y] = data + (size_t)y * rowbytes;
        for (int x = 0; x < w * ch; x++) {
            unsigned v = samples[(size_t)y * w * ch + x];
            if (depth == 16) {
                rows[y][2 * x] = (uint8_t)(v >> 8);
                rows[y][2 * x + 1] = (uint8_t)v;
            } else if (depth == 8) {
                rows[y][x] = (uint8_t)v;
            } else { /* packed, most significant bits first */
                int per = 8 / depth, byte = x / per, shift = 8 - depth * (x % per + 1);
                rows[y][byte] |= (uint8_t)(v << shift);
            }
        }
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(rows);
    free(data);
}

/* JPEG from interleaved 8-bit pixels with 1 (grey), 3 (RGB) or 4 (CMYK) components. */
static inline void fx_jpeg(const char *path, int w, int h, int comps, const uint8_t *px,
                           int quality)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    for (int i = 0; i < c.num_components; i++) /* no chroma subsampling: closer round trip */
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

/* Binary PGM with the given maxval (2-byte samples when maxval > 255), with a comment. */
static inline void fx_pgm(const char *path, int w, int h, int maxval, const uint16_t *v)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fprintf(f, "P5\n# written by a test\n%d %d\n%d\n", w, h, maxval);
    for (int i = 0; i < w * h; i++) {
        if (maxval > 255)
            fputc(v[i] >> 8, f);
        fputc(v[i] & 0xff, f);
    }
    fclose(f);
}

/* Smooth RGB test pattern (JPEG-friendly), interleaved. */
static inline uint8_t *fx_pattern(int w, int h, int seed)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    cr_assert(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(40 + (x * 160) / (w > 1 ? w - 1 : 1) + seed % 7);
            q[1] = (uint8_t)(30 + (y * 180) / (h > 1 ? h - 1 : 1));
            q[2] = (uint8_t)(200 - ((x + y) * 150) / (w + h) - seed % 5);
        }
    return p;
}

/* Runs fn with stderr sent to a temporary file; returns how many bytes were written. */
static inline long fx_stderr_bytes(void (*fn)(void *), void *arg)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *t = tmpfile();
    cr_assert(saved >= 0 && t);
    dup2(fileno(t), 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(t) >= 0 ? (fseek(t, 0, SEEK_END), ftell(t)) : -1;
    fclose(t);
    return n;
}

#endif
