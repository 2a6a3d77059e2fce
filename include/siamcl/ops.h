/* Host wrappers that launch the kernels in cl/. Conventions for every op:
 * - float32 tensors, NCHW for images; conv weights [Cout, Cin, KH, KW]; linear weights
 *   [out, in] with y = x W^T + b (PyTorch's layout, so reference code maps one to one).
 * - Functions enqueue work on ctx->queue and never wait; they return SC_OK or SC_ERR with
 *   sc_last_error() set (shape mismatches are errors, not asserts).
 * - Backward functions overwrite dx and the parameter gradients (no accumulation); a NULL
 *   gradient pointer means "not needed" (e.g. dx of the first layer).
 * - Scratch memory (im2col columns, per-row statistics) comes from a caller-provided arena or
 *   workspace tensor, never from per-call allocation. */
#ifndef SIAMCL_OPS_H
#define SIAMCL_OPS_H

#include "siamcl/tensor.h"
#include "siamcl/ops_conv.h"
#include "siamcl/ops_dense.h"
#include "siamcl/ops_loss.h"
#include "siamcl/ops_optim.h"

#endif
