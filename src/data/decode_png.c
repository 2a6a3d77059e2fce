/* PNG through libpng. Every colour type and depth becomes 8-bit RGB through libpng's own
 * transformations; errors longjmp back here with the message instead of printing, and the
 * read callback turns a short file into an error rather than a partial image. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct png_src {
    const uint8_t *buf;
    size_t n, pos;
    char msg[256];
} png_src;

static void on_error(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Ancillary-chunk complaints (unknown sRGB profiles, bad text chunks) do not touch pixels. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void on_read(png_structp png, png_bytep data, size_t len)
{
    png_src *s = png_get_io_ptr(png);
    if (len > s->n - s->pos)
        png_error(png, "file is truncated");
    memcpy(data, s->buf + s->pos, len);
    s->pos += len;
}

int sc_decode_png(const uint8_t *buf, size_t n, const char *name, sc_image *out)
{
    png_src src = {buf, n, 0, ""};
    png_bytep *volatile rows = NULL;
    png_infop info = NULL;

    out->px = NULL;
    out->w = out->h = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    if (!png)
        return sc_fail("%s: out of memory starting the PNG decoder", name);
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return sc_fail("%s: out of memory starting the PNG decoder", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        sc_image_free(out);
        return sc_fail("%s: corrupt or truncated PNG: %s", name, src.msg);
    }
    png_set_read_fn(png, &src, on_read);
    /* libpng refuses larger headers itself, before allocating anything. */
    png_set_user_limits(png, SC_IMAGE_MAX_SIDE, SC_IMAGE_MAX_SIDE);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        png_set_scale_16(png); /* rounds, unlike strip_16's truncation */
#else
        png_set_strip_16(png);
#endif
    }
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    /* Alpha channels, and the alpha that palette expansion makes from a tRNS chunk, go. */
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        png_destroy_read_struct(&png, &info, NULL);
        return sc_fail("%s: PNG colour type %d, depth %d did not convert to 8-bit RGB", name,
                       type, depth);
    }
    if (sc_image_alloc(out, (long)w, (long)h, name, "PNG") != SC_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return SC_ERR;
    }
    rows = malloc(sizeof *rows * h);
    if (!rows) {
        png_destroy_read_struct(&png, &info, NULL);
        sc_image_free(out);
        return sc_fail("%s: out of memory", name);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = out->px + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* checks the trailing chunks: a cut-off file fails here */
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return SC_OK;
}
