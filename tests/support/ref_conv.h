/* Plain-C references for the convolution family (conv2d, bias, leaky ReLU, pooling), written
 * straight from the definitions, accumulating in double. NCHW float32 in and out, the same
 * conventions as include/siamcl/ops_conv.h, so the network's plain-C path can reuse them. */
#ifndef SIAMCL_TEST_REF_CONV_H
#define SIAMCL_TEST_REF_CONV_H

typedef struct ref_conv_shape {
    int n, cin, h, w;      /* input */
    int cout, k, stride, pad;
    int oh, ow;            /* filled by ref_conv_shape_make */
} ref_conv_shape;

ref_conv_shape ref_conv_shape_make(int n, int cin, int h, int w, int cout, int k, int stride,
                                   int pad);

/* y = conv(x, wt) + b (b may be NULL). */
void ref_conv2d_forward(const ref_conv_shape *s, const float *x, const float *wt,
                        const float *b, float *y);
/* The exact adjoints: dx, dw, db (each may be NULL), overwritten. */
void ref_conv2d_backward(const ref_conv_shape *s, const float *x, const float *wt,
                         const float *dy, float *dx, float *dw, float *db);

/* y[n, c, p] += b[c]; db[c] = sum over n, p of dy. plane = H*W (1 for [N, C]). */
void ref_bias_forward(float *y, const float *b, int n, int c, int plane);
void ref_bias_backward(const float *dy, float *db, int n, int c, int plane);

void ref_leaky_relu_forward(const float *x, float *y, int n, float slope);
void ref_leaky_relu_backward(const float *ref, const float *dy, float *dx, int n, float slope);

/* Pooling over nc planes of h x w; k = 0 is global average (oh = ow = 1). Max pooling takes
 * the first maximum; idx (may be NULL) gets iy * w + ix. Average divides by k*k. */
int ref_pool_out(int in, int k, int stride, int pad);
void ref_maxpool_forward(const float *x, float *y, int *idx, int nc, int h, int w, int k,
                         int stride, int pad);
void ref_maxpool_backward(const int *idx, const float *dy, float *dx, int nc, int h, int w,
                          int k, int stride, int pad);
void ref_avgpool_forward(const float *x, float *y, int nc, int h, int w, int k, int stride,
                         int pad);
void ref_avgpool_backward(const float *dy, float *dx, int nc, int h, int w, int k, int stride,
                          int pad);

#endif
