/* JPEG through libjpeg(-turbo). Its default error handler prints and calls exit(); ours
 * longjmps back with the message, and warnings (premature end of data, corrupt entropy
 * segments) count as errors: a half-grey face is worse than a refused file. The EXIF
 * orientation (libexif) is applied: phones store portraits sideways and tag them, and a
 * sideways face matches nobody. */
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libexif/exif-data.h>

#include "internal.h"

typedef struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_error(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void on_message(j_common_ptr c, int level)
{
    if (level < 0) /* a warning: corrupt or truncated data */
        on_error(c);
    /* level >= 0: trace output, never wanted */
}

static void on_output(j_common_ptr c) { (void)c; }

/* Adobe CMYK/YCCK JPEGs store inverted ink; libjpeg hands back the raw (inverted) values. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, int w, int inverted)
{
    for (int x = 0; x < w; x++, in += 4, out += 3) {
        unsigned k = inverted ? in[3] : 255u - in[3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? in[c] : 255u - in[c];
            out[c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

/* The EXIF orientation tag (1..8) of the saved APP1 markers; 1 when there is none or it
 * cannot be read (an image is never refused for its metadata). */
static int exif_orientation(j_decompress_ptr c)
{
    int o = 1;
    for (jpeg_saved_marker_ptr m = c->marker_list; m && o == 1; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 || memcmp(m->data, "Exif\0\0", 6))
            continue;
        ExifData *ed = exif_data_new_from_data(m->data, m->data_length);
        ExifEntry *e = ed ? exif_data_get_entry(ed, EXIF_TAG_ORIENTATION) : NULL;
        if (e && e->format == EXIF_FORMAT_SHORT && e->components == 1 && e->data) {
            int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
            o = v >= 1 && v <= 8 ? v : 1;
        }
        if (ed)
            exif_data_unref(ed);
    }
    return o;
}

int sc_decode_jpeg(const uint8_t *buf, size_t n, const char *name, sc_image *out)
{
    struct jpeg_decompress_struct cinfo;
    jerr err;
    uint8_t *volatile row = NULL;

    out->px = NULL;
    out->w = out->h = 0;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
    err.pub.output_message = on_output;
    err.msg[0] = '\0';
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(row);
        sc_image_free(out);
        return sc_fail("%s: corrupt or truncated JPEG: %s", name, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)n);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    int orientation = exif_orientation(&cinfo);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    if (sc_image_alloc(out, (long)cinfo.image_width, (long)cinfo.image_height, name, "JPEG") !=
        SC_OK) {
        jpeg_destroy_decompress(&cinfo);
        return SC_ERR;
    }
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_width != out->w || (int)cinfo.output_height != out->h ||
        cinfo.output_components != (cmyk ? 4 : 3)) {
        jpeg_destroy_decompress(&cinfo);
        sc_image_free(out);
        return sc_fail("%s: JPEG decoder produced an unexpected layout", name);
    }
    if (cmyk) {
        row = malloc((size_t)out->w * 4);
        if (!row) {
            jpeg_destroy_decompress(&cinfo);
            sc_image_free(out);
            return sc_fail("%s: out of memory", name);
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = out->px + (size_t)cinfo.output_scanline * (size_t)out->w * 3;
        JSAMPROW r = cmyk ? row : dst;
        if (jpeg_read_scanlines(&cinfo, &r, 1) != 1) { /* only a suspending source does this */
            jpeg_destroy_decompress(&cinfo);
            free(row);
            sc_image_free(out);
            return sc_fail("%s: JPEG decoder stopped early", name);
        }
        if (cmyk)
            cmyk_to_rgb(row, dst, out->w, cinfo.saw_Adobe_marker);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return orientation == 1 ? SC_OK : sc_image_orient(out, orientation, name);
}
