/* Decoding (PNG in every colour type and depth, JPEG, PGM), bad files (truncated, corrupt,
 * zero and huge sizes, unknown formats), and crop/resize against plain-C references. */
#include "data_fixtures.h"

#include "siamcl/image.h"

static char *dir;
static void setup(void) { dir = fx_tmpdir(); }
static void teardown(void) { fx_rmtree(dir); dir = NULL; }
TestSuite(image, .init = setup, .fini = teardown);

static sc_image load_ok(const char *path, int w, int h)
{
    sc_image img;
    cr_assert_eq(sc_image_load(path, &img), SC_OK, "%s", sc_last_error());
    cr_assert_eq(img.w, w);
    cr_assert_eq(img.h, h);
    return img;
}

static void load_fails(const char *path, const char *expect)
{
    sc_image img = {1, 1, (uint8_t *)"x"};
    cr_assert_eq(sc_image_load(path, &img), SC_ERR, "%s decoded but should not", path);
    cr_assert_null(img.px);
    cr_assert(strstr(sc_last_error(), path), "message does not name the file: %s",
              sc_last_error());
    if (expect)
        cr_assert(strstr(sc_last_error(), expect), "message '%s' lacks '%s'", sc_last_error(),
                  expect);
}

static void expect_rgb(const sc_image *img, const uint8_t *want, int tol)
{
    int worst = 0;
    for (size_t i = 0; i < (size_t)img->w * img->h * 3; i++) {
        int d = abs((int)img->px[i] - (int)want[i]);
        worst = d > worst ? d : worst;
    }
    cr_assert_leq(worst, tol, "largest channel difference %d > %d", worst, tol);
}

/* ---- PNG ----------------------------------------------------------------------------------- */

/* Grey at depth d: value v becomes v * 255 / (2^d - 1) in every channel. */
static void png_gray(int depth, int alpha)
{
    int w = 7, h = 5, ch = alpha ? 2 : 1, maxv = (1 << depth) - 1;
    uint16_t *s = malloc(sizeof *s * w * h * ch);
    uint8_t *want = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        int level = (i * 37) % (depth == 16 ? 256 : maxv + 1);
        s[i * ch] = (uint16_t)(depth == 16 ? level * 257 : level); /* 16 bit: exact in 8 */
        if (alpha)
            s[i * ch + 1] = (uint16_t)((i * 11) % (maxv + 1)); /* dropped, must not matter */
        uint8_t g = (uint8_t)(depth == 16 ? level : level * 255 / maxv);
        want[3 * i] = want[3 * i + 1] = want[3 * i + 2] = g;
    }
    char name[64];
    snprintf(name, sizeof name, "gray%d%s.png", depth, alpha ? "a" : "");
    char *p = fx_path(dir, name);
    fx_png(p, w, h, alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY, depth, s, NULL, 0, 0,
           NULL, 0);
    sc_image img = load_ok(p, w, h);
    expect_rgb(&img, want, 0);
    sc_image_free(&img);
    free(p);
    free(s);
    free(want);
}

Test(image, png_gray_every_depth)
{
    png_gray(1, 0);
    png_gray(2, 0);
    png_gray(4, 0);
    png_gray(8, 0);
    png_gray(16, 0);
}

Test(image, png_gray_alpha) { png_gray(8, 1); png_gray(16, 1); }

Test(image, png_gray_with_trns)
{
    uint16_t s[4] = {0, 1, 2, 3};
    png_color_16 key = {.gray = 2};
    char *p = fx_path(dir, "g2t.png");
    FILE *f = fopen(p, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, 4, 1, 2, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_tRNS(png, info, NULL, 0, &key);
    png_write_info(png, info);
    uint8_t row[1] = {(uint8_t)(s[0] << 6 | s[1] << 4 | s[2] << 2 | s[3])};
    png_write_row(png, row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    sc_image img = load_ok(p, 4, 1);
    const uint8_t want[12] = {0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255};
    expect_rgb(&img, want, 0);
    sc_image_free(&img);
    free(p);
}

static void png_rgb_case(int depth, int alpha, int interlace)
{
    int w = 9, h = 6, ch = alpha ? 4 : 3;
    uint8_t *rgb = fx_pattern(w, h, depth);
    uint16_t *s = malloc(sizeof *s * w * h * ch);
    for (int i = 0; i < w * h; i++) {
        for (int c = 0; c < 3; c++)
            s[i * ch + c] = (uint16_t)(depth == 16 ? rgb[3 * i + c] * 257 : rgb[3 * i + c]);
        if (alpha)
            s[i * ch + 3] = (uint16_t)(i % 2 ? 0 : (depth == 16 ? 65535 : 255));
    }
    char name[64];
    snprintf(name, sizeof name, "rgb%d%s%s.png", depth, alpha ? "a" : "", interlace ? "i" : "");
    char *p = fx_path(dir, name);
    fx_png(p, w, h, alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, depth, s, NULL, 0,
           interlace, NULL, 0);
    sc_image img = load_ok(p, w, h);
    expect_rgb(&img, rgb, 0);
    sc_image_free(&img);
    free(p);
    free(s);
    free(rgb);
}

Test(image, png_rgb_and_rgba_8_16) { png_rgb_case(8, 0, 0); png_rgb_case(16, 0, 0); png_rgb_case(8, 1, 0); png_rgb_case(16, 1, 0); }
Test(image, png_interlaced) { png_rgb_case(8, 0, 1); png_rgb_case(16, 1, 1); }

Test(image, png_16bit_rounds_to_nearest)
{
    /* 16-bit samples that are not multiples of 257 must land within one level of v/257. */
    int w = 16, h = 1;
    uint16_t s[16];
    uint8_t want[48];
    for (int i = 0; i < w; i++) {
        s[i] = (uint16_t)(i * 4093 + 100);
        want[3 * i] = want[3 * i + 1] = want[3 * i + 2] = (uint8_t)((s[i] + 128) / 257);
    }
    char *p = fx_path(dir, "g16.png");
    fx_png(p, w, h, PNG_COLOR_TYPE_GRAY, 16, s, NULL, 0, 0, NULL, 0);
    sc_image img = load_ok(p, w, h);
    expect_rgb(&img, want, 1);
    sc_image_free(&img);
    free(p);
}

static void png_palette(int depth, int with_trns)
{
    int w = 10, h = 3, n = 1 << depth;
    uint8_t pal[256 * 3], trns[256];
    for (int i = 0; i < n; i++) {
        pal[3 * i] = (uint8_t)(i * 251 / n);
        pal[3 * i + 1] = (uint8_t)(255 - i * 97 % 256);
        pal[3 * i + 2] = (uint8_t)(i * 13 % 256);
        trns[i] = (uint8_t)(i * 40);
    }
    uint16_t s[30];
    uint8_t want[90];
    for (int i = 0; i < w * h; i++) {
        s[i] = (uint16_t)((i * 7) % n);
        memcpy(want + 3 * i, pal + 3 * s[i], 3);
    }
    char name[64];
    snprintf(name, sizeof name, "pal%d%s.png", depth, with_trns ? "t" : "");
    char *p = fx_path(dir, name);
    fx_png(p, w, h, PNG_COLOR_TYPE_PALETTE, depth, s, pal, n, 0, with_trns ? trns : NULL,
           with_trns ? n : 0);
    sc_image img = load_ok(p, w, h);
    expect_rgb(&img, want, 0);
    sc_image_free(&img);
    free(p);
}

Test(image, png_palette_every_depth)
{
    png_palette(1, 0);
    png_palette(2, 0);
    png_palette(4, 0);
    png_palette(8, 0);
    png_palette(8, 1); /* transparency chunk: dropped like alpha */
}

/* ---- JPEG ---------------------------------------------------------------------------------- */

Test(image, jpeg_rgb_gray_cmyk)
{
    int w = 33, h = 17; /* not multiples of the 8x8 blocks */
    uint8_t *rgb = fx_pattern(w, h, 3);
    char *p = fx_path(dir, "rgb.jpg");
    fx_jpeg(p, w, h, 3, rgb, 100);
    sc_image img = load_ok(p, w, h);
    expect_rgb(&img, rgb, 6); /* lossy, but quality 100 and 4:4:4 */
    sc_image_free(&img);

    uint8_t *g = malloc((size_t)w * h), *g3 = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++)
        g[i] = g3[3 * i] = g3[3 * i + 1] = g3[3 * i + 2] = rgb[3 * i + 1];
    char *pg = fx_path(dir, "gray.jpg");
    fx_jpeg(pg, w, h, 1, g, 100);
    img = load_ok(pg, w, h);
    expect_rgb(&img, g3, 3);
    sc_image_free(&img);

    /* CMYK with an Adobe marker stores inverted ink: raw (R, G, B, 255) means RGB. */
    uint8_t *cmyk = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) {
        memcpy(cmyk + 4 * i, rgb + 3 * i, 3);
        cmyk[4 * i + 3] = 255;
    }
    char *pc = fx_path(dir, "cmyk.jpg");
    fx_jpeg(pc, w, h, 4, cmyk, 100);
    img = load_ok(pc, w, h);
    expect_rgb(&img, rgb, 6);
    sc_image_free(&img);
    free(rgb);
    free(g);
    free(g3);
    free(cmyk);
    free(p);
    free(pg);
    free(pc);
}

Test(image, format_by_content_not_extension)
{
    uint8_t *rgb = fx_pattern(8, 8, 1);
    char *p = fx_path(dir, "really_a_jpeg.png");
    fx_jpeg(p, 8, 8, 3, rgb, 90);
    size_t n;
    uint8_t *b = fx_read(p, &n);
    cr_assert_eq(sc_image_sniff(b, n), SC_IMAGE_JPEG);
    sc_image img = load_ok(p, 8, 8);
    sc_image_free(&img);
    free(b);
    free(p);
    free(rgb);
}

/* The JPEG at `src` with an EXIF APP1 segment (little-endian TIFF, IFD0 holding only the
 * orientation tag) inserted after its SOI, written to `dst`. */
static void with_exif_orientation(const char *src, const char *dst, int o)
{
    size_t n;
    uint8_t *b = fx_read(src, &n);
    static const uint8_t head[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
                                   'I',  'I',  42, 0, 8, 0, 0, 0, /* TIFF header, IFD0 at 8 */
                                   1,    0, /* one entry: */ 0x12, 0x01, 3, 0, 1, 0, 0, 0};
    uint8_t tail[8] = {(uint8_t)o, 0, 0, 0, /* the SHORT value, padded */ 0, 0, 0, 0};
    FILE *f = fopen(dst, "wb");
    cr_assert(f);
    fwrite(b, 1, 2, f); /* SOI */
    fwrite(head, 1, sizeof head, f);
    fwrite(tail, 1, sizeof tail, f);
    fwrite(b + 2, 1, n - 2, f);
    fclose(f);
    free(b);
}

/* Phones store a portrait sideways and say so in EXIF: the decoder turns it upright. A 32 x 16
 * image with a red block at its top-left corner and a green one at its top-right: where each
 * orientation shows them (its definition in the EXIF standard), and its size. */
Test(image, jpeg_exif_orientation_is_applied)
{
    int w = 32, h = 16;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            int red = x < 8 && y < 8, green = x >= w - 8 && y < 8;
            p[0] = red ? 230 : 40, p[1] = green ? 230 : 40, p[2] = 40;
        }
    char *plain = fx_path(dir, "upright.jpg"), *tagged = fx_path(dir, "tagged.jpg");
    fx_jpeg(plain, w, h, 3, rgb, 95);
    /* display position of the stored top-left and top-right corners, in {0, 1} of W-1, H-1 */
    static const int corners[9][4] = {{0}, {0, 0, 1, 0}, {1, 0, 0, 0}, {1, 1, 0, 1}, {0, 1, 1, 1},
                                      {0, 0, 0, 1}, {1, 0, 1, 1}, {1, 1, 1, 0}, {0, 1, 0, 0}};
    for (int o = 1; o <= 8; o++) {
        with_exif_orientation(plain, tagged, o);
        sc_image img;
        cr_assert_eq(sc_image_load(tagged, &img), SC_OK, "%s", sc_last_error());
        int W = o >= 5 ? h : w, H = o >= 5 ? w : h;
        cr_assert(img.w == W && img.h == H, "orientation %d: %dx%d", o, img.w, img.h);
        for (int c = 0; c < 2; c++) { /* 3 px in from the corner, inside the 8x8 block */
            int x = corners[o][2 * c] ? W - 4 : 3, y = corners[o][2 * c + 1] ? H - 4 : 3;
            const uint8_t *p = img.px + ((size_t)y * W + x) * 3;
            cr_assert(p[c] > 180 && p[1 - c] < 100, "orientation %d: corner %d shows (%d, %d)",
                      o, c, p[0], p[1]);
        }
        sc_image_free(&img);
    }
    free(plain), free(tagged), free(rgb);
}

/* ---- PGM ----------------------------------------------------------------------------------- */

Test(image, pgm_8_and_16_bit_any_maxval)
{
    int w = 6, h = 4;
    const int maxvals[] = {255, 100, 65535, 1000};
    for (int m = 0; m < 4; m++) {
        uint16_t v[24];
        uint8_t want[72];
        for (int i = 0; i < w * h; i++) {
            v[i] = (uint16_t)((i * 97 + 3) % (maxvals[m] + 1));
            uint8_t g = (uint8_t)((v[i] * 255u + maxvals[m] / 2) / maxvals[m]);
            want[3 * i] = want[3 * i + 1] = want[3 * i + 2] = g;
        }
        char name[32];
        snprintf(name, sizeof name, "g%d.pgm", maxvals[m]);
        char *p = fx_path(dir, name);
        fx_pgm(p, w, h, maxvals[m], v);
        sc_image img = load_ok(p, w, h);
        expect_rgb(&img, want, 0);
        sc_image_free(&img);
        free(p);
    }
}

/* ---- bad files ----------------------------------------------------------------------------- */

static void write_truncated(const char *src, const char *dst, size_t keep)
{
    size_t n;
    uint8_t *b = fx_read(src, &n);
    cr_assert_lt(keep, n);
    fx_write(dst, b, keep);
    free(b);
}

typedef struct quiet_arg {
    const char *path;
    int rc;
} quiet_arg;

static void load_quietly(void *arg)
{
    quiet_arg *q = arg;
    sc_image img;
    q->rc = sc_image_load(q->path, &img);
    if (q->rc == SC_OK)
        sc_image_free(&img);
}

Test(image, truncated_files_fail_quietly)
{
    uint8_t *rgb = fx_pattern(40, 40, 2);
    uint16_t s[40 * 40 * 3];
    for (int i = 0; i < 40 * 40 * 3; i++)
        s[i] = rgb[i];
    char *png = fx_path(dir, "full.png"), *jpg = fx_path(dir, "full.jpg");
    fx_png(png, 40, 40, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0, 0, NULL, 0);
    fx_jpeg(jpg, 40, 40, 3, rgb, 90);
    size_t npng, njpg;
    free(fx_read(png, &npng));
    free(fx_read(jpg, &njpg));
    const double fractions[] = {0.05, 0.3, 0.6, 0.9};
    for (int k = 0; k < 4; k++) {
        char *tp = fx_path(dir, "cut.png"), *tj = fx_path(dir, "cut.jpg");
        write_truncated(png, tp, (size_t)(npng * fractions[k]));
        write_truncated(jpg, tj, (size_t)(njpg * fractions[k]));
        load_fails(tp, "PNG");
        load_fails(tj, "JPEG");
        quiet_arg q = {tj, 0};
        cr_assert_eq(fx_stderr_bytes(load_quietly, &q), 0, "decoder wrote to stderr");
        cr_assert_eq(q.rc, SC_ERR);
        q.path = tp;
        cr_assert_eq(fx_stderr_bytes(load_quietly, &q), 0, "decoder wrote to stderr");
        free(tp);
        free(tj);
    }
    /* PNG cut just before IEND: all pixels present, the file still is not whole. */
    char *tp = fx_path(dir, "noend.png");
    write_truncated(png, tp, npng - 12);
    load_fails(tp, "PNG");
    free(tp);
    /* PGM with half its pixels */
    uint16_t v[100] = {0};
    char *pg = fx_path(dir, "full.pgm"), *tg = fx_path(dir, "cut.pgm");
    fx_pgm(pg, 10, 10, 255, v);
    size_t npg;
    free(fx_read(pg, &npg));
    write_truncated(pg, tg, npg - 50);
    load_fails(tg, "truncated");
    free(pg);
    free(tg);
    free(png);
    free(jpg);
    free(rgb);
}

Test(image, corrupt_png_crc_and_data)
{
    uint16_t s[16 * 16 * 3];
    for (int i = 0; i < 16 * 16 * 3; i++)
        s[i] = (uint16_t)(i * 7 % 256);
    char *p = fx_path(dir, "ok.png");
    fx_png(p, 16, 16, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0, 0, NULL, 0);
    size_t n;
    uint8_t *b = fx_read(p, &n);
    /* flip a byte inside IDAT (after the 8-byte magic + 25-byte IHDR chunk + IDAT header) */
    b[8 + 25 + 8 + 4] ^= 0x5a;
    char *bad = fx_path(dir, "bad.png");
    fx_write(bad, b, n);
    load_fails(bad, "PNG");
    free(b);
    free(bad);
    free(p);
}

/* IHDR with chosen dimensions and a correct CRC, so libpng's own checks and ours are what
 * refuse it. */
static uint32_t crc32_of(const uint8_t *d, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void png_header_only(const char *path, uint32_t w, uint32_t h)
{
    uint8_t b[8 + 25] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    uint8_t *d = b + 16;
    d[0] = (uint8_t)(w >> 24), d[1] = (uint8_t)(w >> 16), d[2] = (uint8_t)(w >> 8), d[3] = (uint8_t)w;
    d[4] = (uint8_t)(h >> 24), d[5] = (uint8_t)(h >> 16), d[6] = (uint8_t)(h >> 8), d[7] = (uint8_t)h;
    d[8] = 8; /* depth */
    d[9] = 2; /* RGB */
    uint32_t crc = crc32_of(b + 12, 17);
    b[29] = (uint8_t)(crc >> 24), b[30] = (uint8_t)(crc >> 16), b[31] = (uint8_t)(crc >> 8), b[32] = (uint8_t)crc;
    fx_write(path, b, sizeof b);
}

Test(image, zero_and_huge_dimensions)
{
    char *p = fx_path(dir, "dims.png");
    png_header_only(p, 0, 10);
    load_fails(p, "PNG");
    png_header_only(p, 100000, 100000);
    load_fails(p, "PNG");
    png_header_only(p, 16384, 16385);
    load_fails(p, "PNG");
    free(p);

    char *g = fx_path(dir, "dims.pgm");
    fx_text(g, "P5 0 10 255\n");
    load_fails(g, "zero");
    fx_text(g, "P5 100000 100000 255\n");
    load_fails(g, "limit");
    fx_text(g, "P5 16384 16385 255\n"); /* under the side limit, over the pixel limit */
    load_fails(g, "limit");
    fx_text(g, "P5 99999999999999999999 2 255\n");
    load_fails(g, "limit");
    free(g);

    /* JPEG whose SOF says width 0 */
    uint8_t *rgb = fx_pattern(8, 8, 0);
    char *j = fx_path(dir, "dims.jpg");
    fx_jpeg(j, 8, 8, 3, rgb, 90);
    size_t n;
    uint8_t *b = fx_read(j, &n);
    int patched = 0;
    for (size_t i = 0; i + 9 < n; i++)
        if (b[i] == 0xff && b[i + 1] == 0xc0) { /* SOF0: len(2) precision(1) height(2) width(2) */
            b[i + 7] = b[i + 8] = 0;
            patched = 1;
            break;
        }
    cr_assert(patched);
    fx_write(j, b, n);
    load_fails(j, "JPEG");
    free(b);
    free(j);
    free(rgb);
}

Test(image, malformed_pgm_headers)
{
    char *g = fx_path(dir, "bad.pgm");
    const char *cases[][2] = {
        {"P5 4 4", "header"},
        {"P5 4 x 255\n", "header"},
        {"P5 2 2 0\n\x01\x01\x01\x01", "maxval"},
        {"P5 2 2 70000\n", "maxval"},
        {"P5 2 2 255", "whitespace"},
        {"P5 2 1 100\n\x05\xff", "exceeds maxval"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_write(g, cases[i][0], strlen(cases[i][0]));
        load_fails(g, cases[i][1]);
    }
    free(g);
}

Test(image, unknown_empty_and_missing)
{
    char *p = fx_path(dir, "anim.gif");
    fx_text(p, "GIF89a\x01\x00\x01\x00");
    load_fails(p, "unknown image format");
    fx_text(p, "");
    load_fails(p, "empty");
    fx_text(p, "P2 2 2 255\n1 2 3 4\n"); /* ASCII PGM: not supported */
    load_fails(p, "unknown");
    free(p);
    char *missing = fx_path(dir, "no_such_file.jpg");
    load_fails(missing, "cannot open");
    free(missing);
    sc_image img;
    cr_assert_eq(sc_image_load(dir, &img), SC_ERR); /* a folder */
}

/* ---- prepare --------------------------------------------------------------------------------- */

static sc_image make_image(int w, int h, unsigned seed)
{
    sc_image img = {w, h, malloc((size_t)w * h * 3)};
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        img.px[i] = (uint8_t)(s >> 24);
    }
    return img;
}

Test(image, prepare_identity_is_a_transpose)
{
    sc_image img = make_image(13, 13, 1);
    sc_prep p = {.size = 13};
    uint8_t out[3 * 13 * 13];
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK, "%s", sc_last_error());
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 13 * 13; i++)
            cr_assert_eq(out[c * 169 + i], img.px[3 * i + c]);
    sc_image_free(&img);
}

Test(image, prepare_crop_without_resize)
{
    sc_image img = make_image(20, 15, 2);
    sc_prep p = {.size = 6, .crop_x = 11, .crop_y = 7, .crop_w = 6, .crop_h = 6};
    uint8_t out[3 * 36];
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK, "%s", sc_last_error());
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
                cr_assert_eq(out[c * 36 + y * 6 + x], img.px[((7 + y) * 20 + 11 + x) * 3 + c]);
    sc_image_free(&img);
}

Test(image, prepare_halving_is_a_2x2_mean)
{
    sc_image img = make_image(18, 18, 3);
    sc_prep p = {.size = 9};
    uint8_t out[3 * 81];
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 9; y++)
            for (int x = 0; x < 9; x++) {
                int s = 0;
                for (int k = 0; k < 4; k++)
                    s += img.px[((2 * y + k / 2) * 18 + 2 * x + k % 2) * 3 + c];
                cr_assert_eq(out[c * 81 + y * 9 + x], (s + 2) / 4, "at c%d y%d x%d", c, y, x);
            }
    sc_image_free(&img);
}

/* Area average by supersampling: with a factor of 2.5 every output border falls on a half
 * pixel, so two samples per source pixel per axis integrate exactly. */
Test(image, prepare_fractional_downscale_is_an_area_mean)
{
    int W = 25, S = 10;
    sc_image img = make_image(W, W, 4);
    sc_prep p = {.size = S};
    uint8_t out[3 * 100];
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                double sum = 0;
                int cnt = 0;
                for (int sy = 0; sy < 5; sy++)
                    for (int sx = 0; sx < 5; sx++) {
                        int hy = (y * 5 + sy) / 2, hx = (x * 5 + sx) / 2; /* half-pixel grid */
                        sum += img.px[(hy * W + hx) * 3 + c];
                        cnt++;
                    }
                int want = (int)(sum / cnt + 0.5);
                int got = out[c * S * S + y * S + x];
                cr_assert_leq(abs(got - want), 1, "c%d y%d x%d: %d vs %d", c, y, x, got, want);
            }
    sc_image_free(&img);
}

Test(image, prepare_upscale_is_bilinear)
{
    sc_image img = {2, 1, malloc(6)};
    uint8_t v[6] = {0, 0, 0, 100, 200, 40};
    memcpy(img.px, v, 6);
    /* 2 -> 4 wide, 1 -> 4 tall: centres at 0 (clamped), .25, .75, 1 (clamped) */
    sc_prep p = {.size = 4};
    uint8_t out[3 * 16];
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK);
    const int want_r[4] = {0, 25, 75, 100}, want_g[4] = {0, 50, 150, 200}, want_b[4] = {0, 10, 30, 40};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            cr_assert_eq(out[0 * 16 + y * 4 + x], want_r[x]);
            cr_assert_eq(out[1 * 16 + y * 4 + x], want_g[x]);
            cr_assert_eq(out[2 * 16 + y * 4 + x], want_b[x]);
        }
    sc_image_free(&img);
}

Test(image, prepare_constant_stays_constant_any_scale)
{
    sc_image img = {31, 17, malloc(31 * 17 * 3)};
    memset(img.px, 173, 31 * 17 * 3);
    const int sizes[] = {1, 3, 7, 16, 40, 64};
    for (int k = 0; k < 6; k++) {
        sc_prep p = {.size = sizes[k], .crop_x = 2, .crop_y = 1, .crop_w = 27, .crop_h = 15};
        uint8_t *out = malloc((size_t)3 * sizes[k] * sizes[k]);
        cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_OK);
        for (int i = 0; i < 3 * sizes[k] * sizes[k]; i++)
            cr_assert_eq(out[i], 173, "size %d index %d: %d", sizes[k], i, out[i]);
        free(out);
    }
    sc_image_free(&img);
}

Test(image, prepare_rejects_bad_parameters)
{
    sc_image img = make_image(10, 10, 5);
    uint8_t out[3 * 64];
    sc_prep p = {.size = 8, .crop_x = 5, .crop_y = 0, .crop_w = 6, .crop_h = 6};
    cr_assert_eq(sc_image_prepare(&img, &p, "face.jpg", out), SC_ERR);
    cr_assert(strstr(sc_last_error(), "face.jpg") && strstr(sc_last_error(), "crop box"),
              "%s", sc_last_error());
    p = (sc_prep){.size = 0};
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_ERR);
    p = (sc_prep){.size = 4, .crop_x = -1, .crop_y = 0, .crop_w = 4, .crop_h = 4};
    cr_assert_eq(sc_image_prepare(&img, &p, "x", out), SC_ERR);
    sc_image_free(&img);
}
