/* facedb end to end on photos the tests make (PNG and JPEG) and a small random network saved
 * as a checkpoint the way runexp saves one: the embedder prepares photos exactly as the
 * metadata says (checked against the data room's plain-C twin), the model fingerprint,
 * enroll / verify / identify round trips, unknown names, bad photos, a store of another model,
 * and the facedb program's output and exit codes. */
#include "data_fixtures.h"

#include <math.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "siamcl/gallery_store.h"
#include "support.h"

#define SIDE 32 /* photos are SIDE x SIDE RGB */
#define PEOPLE 5

typedef struct fixture {
    char *dir;
    char ckpt[4096], ckpt_other[4096], db[4096];
    char photo[PEOPLE][4096];   /* enrollment photo of person p */
    char probe[PEOPLE][4096];   /* another photo of person p (noise added) */
    char stranger[4096];        /* someone never enrolled */
    char mirror[4096];          /* person 0's photo mirrored */
} fixture;

/* Person p: a random texture; their probe adds a little noise. */
static void face(uint8_t *px, unsigned p, unsigned noise_seed, int mirror)
{
    float *t = test_rand_alloc((size_t)SIDE * SIDE * 3, 1000 + p, 0.0f, 255.0f);
    float *n = test_rand_alloc((size_t)SIDE * SIDE * 3, noise_seed, -6.0f, 6.0f);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            for (int c = 0; c < 3; c++) {
                int sx = mirror ? SIDE - 1 - x : x;
                size_t i = ((size_t)y * SIDE + sx) * 3 + c;
                float v = t[i] + (noise_seed ? n[i] : 0.0f);
                px[((size_t)y * SIDE + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    free(t), free(n);
}

static void write_png(const char *path, const uint8_t *px)
{
    uint16_t *s = malloc(sizeof *s * SIDE * SIDE * 3);
    for (int i = 0; i < SIDE * SIDE * 3; i++)
        s[i] = px[i];
    fx_png(path, SIDE, SIDE, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0, 0, NULL, 0);
    free(s);
}

static sc_net *tiny_net(uint64_t seed)
{
    sc_layer_desc L[4] = {sc_layer_default(SC_LAYER_CONV), sc_layer_default(SC_LAYER_RELU),
                          sc_layer_default(SC_LAYER_LINEAR), sc_layer_default(SC_LAYER_L2NORM)};
    L[0].out = 6, L[0].k = 3, L[0].stride = 2, L[0].pad = 1;
    L[2].out = 16;
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, 4, 3, 16, 16, 4, &net), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_net_init(net, SC_INIT_KAIMING, seed), SC_OK, "%s", sc_last_error());
    return net;
}

/* A checkpoint as runexp writes it: 28x28 crop at (2,2), resized to 20, centre 16. */
static void save_ckpt(sc_net *net, const char *path, const char *flip, const char *thr)
{
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_from_net(&ck, net), SC_OK, "%s", sc_last_error());
    const char *kv[][2] = {{"image_size", "16"},
                           {"prep_size", "20"},
                           {"crop", "2,2,28,28"},
                           {"crop_frame", "32x32"},
                           {"norm_mean", "0.5,0.45,0.4"},
                           {"norm_std", "0.25,0.2,0.3"},
                           {"test_flip", flip},
                           {"embedding_dim", "16"},
                           {"threshold_eer", thr},
                           {"threshold_far_0.01", thr},
                           {"threshold_far_0.001", thr}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        cr_assert_eq(sc_ckpt_meta_set(&ck, kv[i][0], kv[i][1]), SC_OK);
    cr_assert_eq(sc_ckpt_write(path, &ck), SC_OK, "%s", sc_last_error());
    sc_ckpt_free(&ck);
}

static void make_fixture(fixture *f, const char *thr)
{
    memset(f, 0, sizeof *f);
    f->dir = fx_tmpdir();
    snprintf(f->ckpt, sizeof f->ckpt, "%s/model.ckpt", f->dir);
    snprintf(f->ckpt_other, sizeof f->ckpt_other, "%s/other.ckpt", f->dir);
    snprintf(f->db, sizeof f->db, "%s/people.facedb", f->dir);
    sc_net *net = tiny_net(7), *other = tiny_net(8);
    save_ckpt(net, f->ckpt, "1", thr);
    save_ckpt(other, f->ckpt_other, "1", thr);
    sc_net_free(net), sc_net_free(other);
    uint8_t px[SIDE * SIDE * 3];
    for (int p = 0; p < PEOPLE; p++) {
        snprintf(f->photo[p], sizeof f->photo[p], "%s/person%d.png", f->dir, p);
        snprintf(f->probe[p], sizeof f->probe[p], "%s/probe%d.jpg", f->dir, p);
        face(px, (unsigned)p, 0, 0);
        write_png(f->photo[p], px);
        face(px, (unsigned)p, 500 + (unsigned)p, 0);
        fx_jpeg(f->probe[p], SIDE, SIDE, 3, px, 95);
    }
    snprintf(f->stranger, sizeof f->stranger, "%s/stranger.png", f->dir);
    face(px, 77, 0, 0);
    write_png(f->stranger, px);
    snprintf(f->mirror, sizeof f->mirror, "%s/mirror.png", f->dir);
    face(px, 0, 0, 1);
    write_png(f->mirror, px);
}

static void embed(sc_embedder *e, const char *path, float *out)
{
    const char *p[1] = {path};
    cr_assert_eq(sc_embed_images(e, p, 1, out, NULL), SC_OK, "%s", sc_last_error());
}

static double dist(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}

/* ---- the embedder ------------------------------------------------------------------------- */

Test(embed, prepares_photos_as_the_checkpoint_says)
{
    fixture f;
    make_fixture(&f, "0.5");
    /* without flip, so that e.x holds exactly the one view */
    char plain[4200];
    snprintf(plain, sizeof plain, "%s/plain.ckpt", f.dir);
    sc_net *net = tiny_net(7);
    save_ckpt(net, plain, "0", "0.5");
    sc_embedder e;
    cr_assert_eq(sc_embedder_open(&e, test_ctx(), plain, 4), SC_OK, "%s", sc_last_error());
    cr_assert_eq(e.dim, 16);
    cr_assert_eq(e.info.prep.size, 20);
    cr_assert(e.info.prep.crop_x == 2 && e.info.prep.crop_w == 28);
    cr_assert_eq(e.info.aug.out_size, 16);
    float got[16];
    embed(&e, f.photo[3], got);
    /* the network input the device built vs the plain-C path: decode, prepare, augment */
    float *x = test_download(&e.x);
    sc_image img;
    cr_assert_eq(sc_image_load(f.photo[3], &img), SC_OK);
    uint8_t prepared[3 * 20 * 20];
    cr_assert_eq(sc_image_prepare(&img, &e.info.prep, "x", prepared), SC_OK);
    sc_image_free(&img);
    float want_x[3 * 16 * 16];
    sc_augment_host(prepared, 0.0f, 20, &e.info.aug, 0, 0, 0, want_x);
    test_expect_close("elementwise.forward", x, want_x, 3 * 16 * 16);
    free(x);
    /* and the embedding is the network's output on that input */
    sc_tensor xt = test_tensor(4, (int[]){1, 3, 16, 16}, want_x), y;
    cr_assert_eq(sc_net_forward(net, &xt, 0, &y), SC_OK);
    float *want = test_download(&y);
    test_expect_close("net.forward", got, want, 16);
    free(want);
    sc_tensor_free(&xt);
    sc_net_free(net);

    /* the crop box was set on 32x32 images: a photo framed the same at twice the size gets
       it scaled (the box filter sees the same areas), one of another shape is refused */
    cr_assert(e.info.prep.frame_w == 32 && e.info.prep.frame_h == 32);
    cr_assert_eq(sc_image_load(f.photo[3], &img), SC_OK);
    for (int k = 0; k < 2; k++) {
        int W = 2 * SIDE, H = k ? 3 * SIDE / 2 : 2 * SIDE;
        uint16_t *big = malloc(sizeof *big * (size_t)W * H * 3);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++)
                    big[((size_t)y * W + x) * 3 + c] =
                        img.px[((size_t)(y * SIDE / H) * SIDE + x / 2) * 3 + c];
        char path[4200];
        snprintf(path, sizeof path, "%s/big%d.png", f.dir, k);
        fx_png(path, W, H, PNG_COLOR_TYPE_RGB, 8, big, NULL, 0, 0, NULL, 0);
        free(big);
        float scaled[16];
        uint64_t hash;
        const char *one[1] = {path};
        int rc = sc_embed_images(&e, one, 1, scaled, &hash);
        if (!k) {
            cr_assert_eq(rc, SC_OK, "%s", sc_last_error());
            cr_assert(dist(scaled, got, 16) < 0.02, "2x photo: distance %g to the original",
                      dist(scaled, got, 16));
        } else {
            cr_assert_eq(rc, SC_ERR);
            cr_assert(strstr(sc_last_error(), "was set on 32x32 images"), "%s", sc_last_error());
        }
    }
    sc_image_free(&img);

    /* test_flip: the mean of the photo's and its mirror's embeddings */
    sc_embedder ef;
    cr_assert_eq(sc_embedder_open(&ef, test_ctx(), f.ckpt, 4), SC_OK, "%s", sc_last_error());
    float a[16], b[16], both[16];
    embed(&e, f.photo[0], a);
    embed(&e, f.mirror, b);
    embed(&ef, f.photo[0], both);
    for (int i = 0; i < 16; i++)
        a[i] = 0.5f * (a[i] + b[i]);
    test_expect_close("net.forward", both, a, 16);

    /* a batch across several forwards gives what single photos give */
    const char *many[7] = {f.photo[0], f.photo[1], f.probe[2], f.photo[3],
                           f.photo[4], f.stranger, f.photo[1]};
    float m[7 * 16], one[16];
    uint64_t h[7];
    cr_assert_eq(sc_embed_images(&ef, many, 7, m, h), SC_OK, "%s", sc_last_error());
    for (int i = 0; i < 7; i++) {
        embed(&ef, many[i], one);
        test_expect_close("net.forward", m + i * 16, one, 16);
    }
    cr_assert(h[1] == h[6] && h[0] != h[1], "photo hashes follow the bytes");
    sc_embedder_close(&e), sc_embedder_close(&ef);
    fx_rmtree(f.dir);
}

Test(embed, fingerprint_follows_weights_and_preprocessing_not_thresholds)
{
    char *dir = fx_tmpdir();
    char *p = fx_path(dir, "a.ckpt");
    sc_net *net = tiny_net(7);
    sc_ckpt ck;
    sc_model_info a, b;
    save_ckpt(net, p, "1", "0.5");
    cr_assert_eq(sc_ckpt_read(p, &ck), SC_OK);
    cr_assert_eq(sc_model_info_from_ckpt(&ck, &a), SC_OK, "%s", sc_last_error());
    cr_assert_eq(strlen(a.fingerprint), 16);
    cr_assert(fabs(a.threshold_far_1e3 - 0.5) < 1e-12);
    sc_ckpt_meta_set(&ck, "threshold_eer", "0.9");
    cr_assert_eq(sc_model_info_from_ckpt(&ck, &b), SC_OK);
    cr_assert_str_eq(a.fingerprint, b.fingerprint, "recalibration keeps the model");
    sc_ckpt_meta_set(&ck, "norm_mean", "0.5,0.45,0.41");
    cr_assert_eq(sc_model_info_from_ckpt(&ck, &b), SC_OK);
    cr_assert_str_neq(a.fingerprint, b.fingerprint, "other normalisation, other model");
    sc_ckpt_meta_set(&ck, "norm_mean", "0.5,0.45,0.4");
    sc_ckpt_blob *params = (sc_ckpt_blob *)sc_ckpt_blob_find(&ck, "params");
    params->data[3] += 1e-6f;
    cr_assert_eq(sc_model_info_from_ckpt(&ck, &b), SC_OK);
    cr_assert_str_neq(a.fingerprint, b.fingerprint, "other weights, other model");
    params->data[3] -= 1e-6f;
    /* bad metadata is named */
    const char *bad[][2] = {{"image_size", "24"}, {"crop", "1,2,3"}, {"norm_std", "1,0,1"},
                            {"test_flip", "maybe"}, {"prep_size", "8"},
                            {"threshold_eer", "-1"}, {"embedding_dim", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_ckpt c2;
        cr_assert_eq(sc_ckpt_read(p, &c2), SC_OK);
        sc_ckpt_meta_set(&c2, bad[i][0], bad[i][1]);
        sc_embedder e;
        int rc = sc_embedder_from_ckpt(&e, test_ctx(), &c2, "bad.ckpt", 2);
        if (!strcmp(bad[i][0], "embedding_dim") && rc == SC_OK)
            sc_embedder_close(&e);
        cr_assert_eq(rc, SC_ERR, "%s = %s accepted", bad[i][0], bad[i][1]);
        cr_assert(strstr(sc_last_error(), bad[i][0]) || strstr(sc_last_error(), "std"),
                  "%s: %s", bad[i][0], sc_last_error());
        sc_ckpt_free(&c2);
    }
    double t;
    cr_assert_eq(sc_model_threshold(&a, "0.01", &t), SC_OK);
    cr_assert_eq(sc_model_threshold(&a, "0.5", &t), SC_ERR);
    sc_ckpt_free(&ck);
    sc_net_free(net);
    free(p);
    fx_rmtree(dir);
}

/* ---- the commands, through the library ---------------------------------------------------- */

/* Distances of the fixture under the model: probes to their own person and to the others. */
static double separating_threshold(const fixture *f, sc_embedder *e)
{
    float g[PEOPLE][16], q[PEOPLE][16], s[16];
    for (int p = 0; p < PEOPLE; p++) {
        embed(e, f->photo[p], g[p]);
        embed(e, f->probe[p], q[p]);
    }
    embed(e, f->stranger, s);
    double same = 0, diff = INFINITY;
    for (int p = 0; p < PEOPLE; p++) {
        double d = dist(q[p], g[p], 16);
        same = d > same ? d : same;
        for (int o = 0; o < PEOPLE; o++)
            if (o != p && dist(q[p], g[o], 16) < diff)
                diff = dist(q[p], g[o], 16);
        if (dist(s, g[p], 16) < diff)
            diff = dist(s, g[p], 16);
    }
    cr_assert(same < diff, "the fixture does not separate people: same %.4f, different %.4f",
              same, diff);
    return 0.5 * (same + diff);
}

Test(facedb, enroll_verify_identify_round_trip)
{
    fixture f;
    make_fixture(&f, "0.5");
    sc_embedder e;
    cr_assert_eq(sc_embedder_open(&e, test_ctx(), f.ckpt, 4), SC_OK, "%s", sc_last_error());
    double t = separating_threshold(&f, &e);
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, f.db, SC_STORE_CREATE), SC_OK, "%s", sc_last_error());
    char names[PEOPLE][32];
    for (int p = 0; p < PEOPLE; p++) {
        snprintf(names[p], sizeof names[p], "Person %d", p);
        const char *ph[1] = {f.photo[p]};
        sc_enroll_result r;
        cr_assert_eq(sc_facedb_enroll(st, &e, names[p], ph, 1, 0, &r), SC_OK, "%s",
                     sc_last_error());
        cr_assert(r.created && r.added == 1);
    }
    /* 1:1: the right claim is accepted, a wrong one and an unknown name rejected */
    const char *vn[4] = {names[2], names[3], "Nobody", names[1]};
    const char *vp[4] = {f.probe[2], f.probe[2], f.probe[2], f.stranger};
    sc_verify_result v[4];
    cr_assert_eq(sc_facedb_verify(st, &e, vn, vp, 4, t, v), SC_OK, "%s", sc_last_error());
    cr_assert(v[0].known && v[0].accept && v[0].distance <= t, "own claim: %g > %g",
              v[0].distance, t);
    cr_assert(v[1].known && !v[1].accept);
    cr_assert(!v[2].known && !v[2].accept && isinf(v[2].distance));
    cr_assert(v[3].known && !v[3].accept);
    /* 1:N: every probe finds its person first; the stranger is beyond the threshold */
    const char *qp[PEOPLE + 1];
    for (int p = 0; p < PEOPLE; p++)
        qp[p] = f.probe[p];
    qp[PEOPLE] = f.stranger;
    sc_gallery g;
    sc_match m[(PEOPLE + 1) * 3];
    int found[PEOPLE + 1];
    cr_assert_eq(sc_facedb_identify(st, &e, qp, PEOPLE + 1, 3, &g, m, found), SC_OK, "%s",
                 sc_last_error());
    for (int p = 0; p < PEOPLE; p++) {
        cr_assert_eq(found[p], 3);
        cr_assert_str_eq(g.names[m[p * 3].person], names[p]);
        cr_assert(m[p * 3].distance <= t && m[p * 3 + 1].distance > t);
        cr_assert(fabs(m[p * 3].distance - v[0].distance) < 1e-9 || p != 2,
                  "identify and verify disagree on the same distance");
    }
    cr_assert(m[PEOPLE * 3].distance > t, "the stranger was matched");
    sc_gallery_free(&g);
    /* a second photo for an enrolled person; the same photo again is skipped */
    const char *two[2] = {f.probe[4], f.photo[4]};
    sc_enroll_result r;
    cr_assert_eq(sc_facedb_enroll(st, &e, names[4], two, 2, 0, &r), SC_ERR);
    cr_assert_eq(sc_facedb_enroll(st, &e, names[4], two, 2, 1, &r), SC_OK, "%s", sc_last_error());
    cr_assert(!r.created && r.added == 1 && r.duplicates == 1);
    long long people, templates;
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK);
    cr_assert(people == PEOPLE && templates == PEOPLE + 1);
    sc_store_close(st);
    sc_embedder_close(&e);
    fx_rmtree(f.dir);
}

Test(facedb, bad_photos_enroll_nothing_and_other_models_are_refused)
{
    fixture f;
    make_fixture(&f, "0.5");
    char *trunc = fx_path(f.dir, "truncated.jpg"), *text = fx_path(f.dir, "notes.jpg");
    size_t n;
    uint8_t *jpg = fx_read(f.probe[0], &n);
    fx_write(trunc, jpg, n / 2);
    free(jpg);
    fx_text(text, "this is not a photo\n");
    const char *missing = "/nonexistent/photo.png";
    sc_embedder e, o;
    cr_assert_eq(sc_embedder_open(&e, test_ctx(), f.ckpt, 4), SC_OK, "%s", sc_last_error());
    sc_store *st;
    cr_assert_eq(sc_store_open(&st, f.db, SC_STORE_CREATE), SC_OK, "%s", sc_last_error());
    const char *bad[3] = {trunc, text, missing};
    for (int i = 0; i < 3; i++) {
        const char *ph[2] = {f.photo[0], bad[i]};
        sc_enroll_result r;
        cr_assert_eq(sc_facedb_enroll(st, &e, "Ada", ph, 2, 0, &r), SC_ERR);
        cr_assert(strstr(sc_last_error(), bad[i]) && strstr(sc_last_error(), "nothing enrolled"),
                  "%s", sc_last_error());
        cr_assert(strstr(sc_last_error(), "photo 2 of 2"), "%s", sc_last_error());
    }
    long long people, templates;
    cr_assert_eq(sc_store_counts(st, &people, &templates), SC_OK);
    cr_assert(people == 0 && templates == 0);
    sc_store_model sm;
    cr_assert_eq(sc_store_get_model(st, &sm), SC_OK);
    cr_assert_str_eq(sm.fingerprint, "", "a failed enroll bound the store to a model");

    const char *ph[1] = {f.photo[0]};
    sc_enroll_result r;
    cr_assert_eq(sc_facedb_enroll(st, &e, "Ada", ph, 1, 0, &r), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_embedder_open(&o, test_ctx(), f.ckpt_other, 4), SC_OK);
    cr_assert_eq(sc_facedb_enroll(st, &o, "Bob", ph, 1, 0, &r), SC_ERR);
    cr_assert(strstr(sc_last_error(), "different models"), "%s", sc_last_error());
    sc_verify_result v;
    const char *nm[1] = {"Ada"};
    cr_assert_eq(sc_facedb_verify(st, &o, nm, ph, 1, 0.5, &v), SC_ERR);
    sc_gallery g;
    sc_match m;
    int found;
    cr_assert_eq(sc_facedb_identify(st, &o, ph, 1, 1, &g, &m, &found), SC_ERR);
    sc_gallery_free(&g);
    sc_store_close(st);
    sc_embedder_close(&e), sc_embedder_close(&o);
    free(trunc), free(text);
    fx_rmtree(f.dir);
}

/* ---- the system evaluation on a small LFW-shaped folder ------------------------------------ */

Test(facedb, lfw_style_evaluation_counts_and_operating_points)
{
    fixture f;
    make_fixture(&f, "0.5");
    /* four people with 3 photos (enrolled from the first), three with one (strangers), and
     * one person outside the test list who must not be used */
    static const char *names[] = {"Ann", "Ben", "Cat", "Dov", "Eli", "Fay", "Gus", "Out"};
    static const int counts[] = {3, 3, 3, 3, 1, 1, 1, 2};
    char *root = fx_path(f.dir, "lfw"), line[64], *p;
    mkdir(root, 0755);
    char names_txt[512] = "", people_txt[512] = "7\n";
    uint8_t px[SIDE * SIDE * 3];
    for (int i = 0; i < 8; i++) {
        snprintf(line, sizeof line, "%s\t%d\n", names[i], counts[i]);
        strcat(names_txt, line);
        if (i < 7)
            strcat(people_txt, line);
        char *d = fx_path(root, names[i]);
        mkdir(d, 0755);
        for (int k = 1; k <= counts[i]; k++) {
            char file[4300];
            snprintf(file, sizeof file, "%s/%s_%04d.jpg", d, names[i], k);
            face(px, 40 + (unsigned)i, k == 1 ? 0 : 900 + 10 * (unsigned)i + (unsigned)k, 0);
            fx_jpeg(file, SIDE, SIDE, 3, px, 95);
        }
        free(d);
    }
    fx_text(p = fx_path(root, "lfw-names.txt"), names_txt);
    free(p);
    fx_text(p = fx_path(root, "peopleDevTest.txt"), people_txt);
    free(p);
    /* thresholds: accept everything (eer), nothing (0.01), absent (0.001) */
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read(f.ckpt, &ck), SC_OK);
    sc_ckpt_meta_set(&ck, "threshold_eer", "10");
    sc_ckpt_meta_set(&ck, "threshold_far_0.01", "0");
    sc_ckpt_meta_set(&ck, "threshold_far_0.001", "nan");
    cr_assert_eq(sc_ckpt_write(f.ckpt, &ck), SC_OK);
    sc_ckpt_free(&ck);

    sc_system_eval_opts o = {.lfw_root = root, .seed = 3, .batch = 4};
    sc_system_eval r;
    cr_assert_eq(sc_system_evaluate(test_ctx(), f.ckpt, &o, &r), SC_OK, "%s", sc_last_error());
    cr_assert(r.enrolled == 4 && r.genuine == 8 && r.strangers == 3 && r.claims == 16,
              "%d enrolled, %d genuine, %d strangers, %d claims", r.enrolled, r.genuine,
              r.strangers, r.claims);
    cr_assert_eq(r.rank1, 1.0, "each probe is a noisy copy of its person's photo");
    cr_assert_eq(r.verif_auc, 1.0);
    for (int i = 0; i < 2; i++)
        cr_assert(r.dir[i] >= 0 && r.dir[i] <= r.rank1);
    /* eer = 10: everyone accepted */
    cr_assert(r.cal_dir[0] == 1.0 && r.cal_false_alarm[0] == 1.0 && r.cal_tar[0] == 1.0 &&
              r.cal_far[0] == 1.0 && r.cal_accuracy[0] == 0.5);
    /* 0.01 = 0: nobody */
    cr_assert(r.cal_dir[1] == 0.0 && r.cal_false_alarm[1] == 0.0 && r.cal_tar[1] == 0.0 &&
              r.cal_far[1] == 0.0 && r.cal_accuracy[1] == 0.5);
    cr_assert(isnan(r.cal_threshold[2]) && isnan(r.cal_dir[2]));
    free(root);
    fx_rmtree(f.dir);
}

/* ---- the facedb program --------------------------------------------------------------------- */

/* The facedb binary next to this test binary (both are built into the build folder). */
static void facedb_path(char *buf, size_t n)
{
    char self[2048];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(len > 0);
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(buf, n, "%s/facedb", self);
    cr_assert_eq(access(buf, X_OK), 0, "%s is missing: build the facedb target", buf);
}

/* Runs facedb with args; returns the exit status, stdout+stderr in out (malloc'ed). */
static int run(const fixture *f, char **out, const char *const *args)
{
    char exe[4096], log[4200];
    facedb_path(exe, sizeof exe);
    snprintf(log, sizeof log, "%.4000s/out.txt", f->dir);
    const char *argv[24] = {exe};
    int n = 1;
    while (args[n - 1])
        argv[n] = args[n - 1], n++;
    argv[n] = NULL;
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1), dup2(fd, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    size_t len;
    *out = (char *)fx_read(log, &len);
    (*out)[len] = '\0';
    cr_assert(WIFEXITED(status), "facedb died: %s", *out);
    return WEXITSTATUS(status);
}

#define RUN(expect, ...)                                                                       \
    do {                                                                                       \
        const char *args_[] = {__VA_ARGS__, NULL};                                             \
        free(out);                                                                             \
        int rc_ = run(&f, &out, args_);                                                        \
        cr_assert_eq(rc_, expect, "facedb %s %s: exit %d, want %d:\n%s", args_[0], args_[1],   \
                     rc_, expect, out);                                                        \
    } while (0)

Test(facedb, program_output_and_exit_codes)
{
    fixture f;
    make_fixture(&f, "0.5");
    sc_embedder e;
    cr_assert_eq(sc_embedder_open(&e, test_ctx(), f.ckpt, 4), SC_OK, "%s", sc_last_error());
    char thr[32];
    snprintf(thr, sizeof thr, "%.6f", separating_threshold(&f, &e));
    sc_embedder_close(&e);
    char *out = NULL, batch[4200];
    RUN(0, "--db", f.db, "--model", f.ckpt, "enroll", "Ada Lovelace", f.photo[0]);
    cr_assert(strstr(out, "enrolled Ada Lovelace: 1 template added"), "%s", out);
    RUN(0, "--db", f.db, "enroll", "Grace", f.photo[1], f.photo[2]); /* the store's model */
    RUN(2, "--db", f.db, "enroll", "Grace", f.photo[3]);
    cr_assert(strstr(out, "already enrolled"), "%s", out);
    RUN(2, "--db", f.db, "--model", f.ckpt_other, "enroll", "Bob", f.photo[3]);
    cr_assert(strstr(out, "different models"), "%s", out);
    RUN(2, "--db", f.db, "enroll", "Bob", "/nonexistent.png");
    cr_assert(strstr(out, "/nonexistent.png") && strstr(out, "nothing enrolled"), "%s", out);

    RUN(0, "--db", f.db, "verify", "Ada Lovelace", f.probe[0], "--threshold", thr);
    cr_assert(strstr(out, "ACCEPT Ada Lovelace: distance"), "%s", out);
    snprintf(batch, sizeof batch, "%s/claims.txt", f.dir);
    FILE *bf = fopen(batch, "w");
    fprintf(bf, "Grace\t%s\nNobody\t%s\n", f.probe[0], f.probe[0]);
    fclose(bf);
    RUN(1, "--db", f.db, "verify", "--batch", batch, "--threshold", thr);
    cr_assert(strstr(out, "REJECT Grace: distance") && strstr(out, "REJECT Nobody: not enrolled"),
              "%s", out);

    RUN(0, "--db", f.db, "identify", f.probe[0], "--top", "2", "--json", "--threshold", thr);
    cr_assert(strstr(out, "\"decision\": \"FOUND\"") &&
              strstr(out, "\"candidates\": [{\"name\": \"Ada Lovelace\""), "%s", out);
    snprintf(batch, sizeof batch, "%s/queries.txt", f.dir);
    bf = fopen(batch, "w");
    fprintf(bf, "# probes\n%s\n\n%s\n", f.probe[1], f.stranger);
    fclose(bf);
    RUN(1, "--db", f.db, "identify", "--batch", batch, "--threshold", thr);
    cr_assert(strstr(out, "probe1.jpg: Grace (distance"), "%s", out);
    const char *unknown = strstr(out, "stranger.png: UNKNOWN (nearest distance");
    cr_assert(unknown && !strstr(unknown, "Ada") && !strstr(unknown, "Grace"),
              "a stranger's line names nobody: %s", out);
    RUN(0, "--db", f.db, "identify", f.probe[1]); /* threshold 0.5 from the checkpoint */
    cr_assert(strstr(out, "threshold 0.5000"), "%s", out);

    RUN(0, "--db", f.db, "rename", "Grace", "Grace Hopper");
    RUN(1, "--db", f.db, "remove", "Nobody");
    RUN(0, "--db", f.db, "list");
    cr_assert(strstr(out, "2 people, 3 templates") && strstr(out, "Grace Hopper\t2\t"), "%s",
              out);
    RUN(0, "--db", f.db, "check");
    RUN(2, "--db", f.ckpt, "list"); /* a checkpoint is not a store */
    cr_assert(strstr(out, "not a facedb store"), "%s", out);
    RUN(2, "--db", f.db, "fly");
    free(out);
    fx_rmtree(f.dir);
}

/* A new store without --model uses the default model ($SIAMCL_MODEL here; the shipped
 * data/models/lfw_best.ckpt otherwise) and a missing default is named in the error. */
Test(facedb, program_default_model)
{
    fixture f;
    make_fixture(&f, "0.5");
    char *out = NULL;
    setenv("SIAMCL_MODEL", "/nonexistent/model.ckpt", 1);
    RUN(2, "--db", f.db, "enroll", "Ada", f.photo[0]);
    cr_assert(strstr(out, "/nonexistent/model.ckpt ($SIAMCL_MODEL) is not readable"), "%s", out);
    cr_assert_neq(access(f.db, F_OK), 0, "a failed first enroll left a store behind");
    RUN(2, "--db", f.db, "--model", f.ckpt, "enroll", "Ada", "/nonexistent.png");
    cr_assert_neq(access(f.db, F_OK), 0, "a first enroll of a bad photo left a store behind");
    setenv("SIAMCL_MODEL", f.ckpt, 1);
    RUN(0, "--db", f.db, "enroll", "Ada", f.photo[0]);
    RUN(0, "--db", f.db, "list");
    cr_assert(strstr(out, f.ckpt), "the store records the default model: %s", out);
    /* Once bound, the store keeps its model whatever the default says. */
    setenv("SIAMCL_MODEL", f.ckpt_other, 1);
    RUN(0, "--db", f.db, "enroll", "Grace", f.photo[1]);
    unsetenv("SIAMCL_MODEL");
    /* the store's checkpoint file replaced by another model: said so, not "use --model" it */
    size_t n;
    uint8_t *other = fx_read(f.ckpt_other, &n);
    FILE *w = fopen(f.ckpt, "wb");
    cr_assert(w && fwrite(other, 1, n, w) == n);
    fclose(w);
    free(other);
    RUN(2, "--db", f.db, "verify", "Ada", f.probe[0]);
    cr_assert(strstr(out, "that file now holds model") && strstr(out, "replaced"), "%s", out);
    free(out);
    fx_rmtree(f.dir);
}
