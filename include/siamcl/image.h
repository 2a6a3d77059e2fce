/* Host images: decode JPEG / PNG / PGM into 8-bit RGB, then crop and resize to the uint8 CHW
 * squares the dataset keeps on the device. Host only (no OpenCL). */
#ifndef SIAMCL_IMAGE_H
#define SIAMCL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "siamcl/error.h"

/* Limits against decompression bombs: a header may claim anything, so dimensions are checked
 * before any pixel memory is allocated. */
#define SC_IMAGE_MAX_SIDE 16384
#define SC_IMAGE_MAX_PIXELS ((size_t)1 << 28)

typedef enum sc_image_format {
    SC_IMAGE_UNKNOWN = 0,
    SC_IMAGE_JPEG,
    SC_IMAGE_PNG,
    SC_IMAGE_PGM /* binary P5, maxval 1..65535 */
} sc_image_format;

/* A decoded image: always 8-bit RGB, interleaved (HWC), rows packed (stride 3 * w).
 * Grey is replicated to three channels, alpha is dropped (not composited: face photos carry
 * no meaningful transparency), palettes are expanded, 16-bit samples are scaled to 8 bit with
 * rounding. */
typedef struct sc_image {
    int w, h;
    uint8_t *px; /* malloc'ed, 3 * w * h bytes */
} sc_image;

/* The format from the first bytes (magic numbers), never from the file name. */
sc_image_format sc_image_sniff(const uint8_t *buf, size_t n);
const char *sc_image_format_name(sc_image_format f);

/* Decodes an in-memory file. `name` is used in messages only ("x.jpg: truncated ...").
 * Corrupt, truncated, zero-sized, oversized and unknown inputs fail with SC_ERR; nothing is
 * printed (libjpeg/libpng warnings are turned into errors). */
int sc_image_decode(const uint8_t *buf, size_t n, const char *name, sc_image *out);
/* Reads and decodes a file. */
int sc_image_load(const char *path, sc_image *out);
void sc_image_free(sc_image *img);

/* Reads a whole file into *buf (realloc'ed as needed; *cap is its capacity), *n bytes.
 * Lets a worker thread reuse one buffer for thousands of files. Refuses files over 256 MiB. */
int sc_file_read(const char *path, uint8_t **buf, size_t *cap, size_t *n);

/* How a decoded image becomes a dataset entry. */
typedef struct sc_prep {
    int size; /* output side S: the result is 3 x S x S */
    /* Crop box in source pixels, applied before resizing; crop_w <= 0 or crop_h <= 0 means
     * the whole image. A box that does not fit inside an image is an error (naming it). */
    int crop_x, crop_y, crop_w, crop_h;
    /* The image size the box was set on, or 0 x 0: the box as is (training). An image of
     * another size gets the box scaled to it (facedb: a 500 x 500 photo framed like LFW's
     * 250 x 250 ones), and one of another shape is an error. */
    int frame_w, frame_h;
} sc_prep;

/* Crops and resizes `img` to out[3][S][S] (uint8, CHW). Downscaling averages the covered
 * source area exactly (box filter with fractional coverage: antialiased), upscaling is
 * bilinear with pixel centres at +0.5 (align_corners = false); each axis chooses on its own.
 * `name` is used in messages. */
int sc_image_prepare(const sc_image *img, const sc_prep *p, const char *name, uint8_t *out);
/* Checks a sc_prep on its own (size range, crop box signs). */
int sc_prep_check(const sc_prep *p);

#endif
