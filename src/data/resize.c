/* Crop and resize to uint8 CHW. Separable: each axis gets a table of source taps and weights,
 * then a horizontal pass into floats and a vertical pass into bytes. Downscaling averages the
 * exact source interval each output pixel covers (no aliasing however large the factor);
 * upscaling interpolates bilinearly between pixel centres. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct axis {
    int *start; /* first source tap per output index */
    int *count; /* taps per output index */
    float *w;   /* taps * maxc weights, summing to 1 */
    int maxc;
} axis;

static void axis_free(axis *a)
{
    free(a->start);
    free(a->count);
    free(a->w);
}

static int axis_make(axis *a, int src, int dst)
{
    double scale = (double)src / dst;
    a->maxc = scale > 1.0 ? (int)ceil(scale) + 1 : 2;
    a->start = malloc(sizeof *a->start * (size_t)dst);
    a->count = malloc(sizeof *a->count * (size_t)dst);
    a->w = calloc((size_t)dst * (size_t)a->maxc, sizeof *a->w);
    if (!a->start || !a->count || !a->w) {
        axis_free(a);
        return sc_fail("out of memory for resize tables");
    }
    for (int i = 0; i < dst; i++) {
        float *w = a->w + (size_t)i * a->maxc;
        if (scale > 1.0) {
            double lo = i * scale, hi = (i + 1) * scale;
            int j0 = (int)floor(lo), j1 = (int)ceil(hi);
            if (j1 > src)
                j1 = src;
            if (j1 - j0 > a->maxc)
                j1 = j0 + a->maxc; /* cannot happen; keeps the table in bounds */
            a->start[i] = j0;
            a->count[i] = j1 - j0;
            double sum = 0;
            for (int j = j0; j < j1; j++) {
                double cover = fmin(hi, j + 1.0) - fmax(lo, (double)j);
                w[j - j0] = (float)(cover > 0 ? cover : 0);
                sum += w[j - j0];
            }
            for (int j = 0; j < j1 - j0; j++)
                w[j] = (float)(w[j] / sum);
        } else {
            double c = (i + 0.5) * scale - 0.5;
            if (c < 0)
                c = 0;
            int j0 = (int)floor(c);
            double f = c - j0;
            if (j0 >= src - 1) {
                j0 = src - 1;
                f = 0;
            }
            a->start[i] = j0;
            a->count[i] = f > 0 ? 2 : 1;
            w[0] = (float)(1.0 - f);
            w[1] = (float)f;
        }
    }
    return SC_OK;
}

int sc_prep_check(const sc_prep *p)
{
    if (!p)
        return sc_fail("no image preparation parameters");
    if (p->size < 1 || p->size > 4096)
        return sc_fail("image size %d outside 1..4096", p->size);
    if (p->crop_w > 0 && p->crop_h > 0 && (p->crop_x < 0 || p->crop_y < 0))
        return sc_fail("crop box origin (%d, %d) is negative", p->crop_x, p->crop_y);
    return SC_OK;
}

int sc_image_prepare(const sc_image *img, const sc_prep *p, const char *name, uint8_t *out)
{
    SC_TRY(sc_prep_check(p));
    if (!name)
        name = "(image)";
    int cx = 0, cy = 0, cw = img->w, ch = img->h, S = p->size;
    if (p->crop_w > 0 && p->crop_h > 0) {
        cx = p->crop_x;
        cy = p->crop_y;
        cw = p->crop_w;
        ch = p->crop_h;
        if (p->frame_w > 0 && p->frame_h > 0 && (img->w != p->frame_w || img->h != p->frame_h)) {
            double sx = (double)img->w / p->frame_w, sy = (double)img->h / p->frame_h;
            if (fabs(sx / sy - 1.0) > 0.05)
                return sc_fail("%s: the image is %dx%d, but the crop box (%d,%d,%d,%d) was set on "
                               "%dx%d images: give one framed like those (same shape, the face "
                               "where theirs is)", name, img->w, img->h, cx, cy, cw, ch,
                               p->frame_w, p->frame_h);
            cx = (int)lround(cx * sx), cw = (int)lround(cw * sx);
            cy = (int)lround(cy * sy), ch = (int)lround(ch * sy);
        }
        if ((long)cx + cw > img->w || (long)cy + ch > img->h)
            return sc_fail("%s: crop box %dx%d at (%d, %d) does not fit the %dx%d image", name, cw,
                           ch, cx, cy, img->w, img->h);
    }
    if (cw < 1 || ch < 1)
        return sc_fail("%s: empty image", name);

    axis ax, ay;
    SC_TRY(axis_make(&ax, cw, S));
    if (axis_make(&ay, ch, S) != SC_OK) {
        axis_free(&ax);
        return SC_ERR;
    }
    float *tmp = malloc(sizeof *tmp * (size_t)ch * S * 3); /* [ch][S][3] */
    if (!tmp) {
        axis_free(&ax);
        axis_free(&ay);
        return sc_fail("%s: out of memory resizing", name);
    }
    for (int y = 0; y < ch; y++) {
        const uint8_t *row = img->px + ((size_t)(cy + y) * img->w + cx) * 3;
        float *t = tmp + (size_t)y * S * 3;
        for (int x = 0; x < S; x++) {
            const float *w = ax.w + (size_t)x * ax.maxc;
            const uint8_t *s = row + (size_t)ax.start[x] * 3;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < ax.count[x]; k++, s += 3) {
                r += w[k] * s[0];
                g += w[k] * s[1];
                b += w[k] * s[2];
            }
            t[3 * x] = r;
            t[3 * x + 1] = g;
            t[3 * x + 2] = b;
        }
    }
    size_t plane = (size_t)S * S;
    for (int y = 0; y < S; y++) {
        const float *w = ay.w + (size_t)y * ay.maxc;
        for (int x = 0; x < S; x++) {
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < ay.count[y]; k++) {
                const float *t = tmp + ((size_t)(ay.start[y] + k) * S + x) * 3;
                for (int c = 0; c < 3; c++)
                    acc[c] += w[k] * t[c];
            }
            for (int c = 0; c < 3; c++) {
                float v = acc[c] + 0.5f;
                out[c * plane + (size_t)y * S + x] = (uint8_t)(v < 0 ? 0 : v >= 255.0f ? 255 : (int)v);
            }
        }
    }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return SC_OK;
}
