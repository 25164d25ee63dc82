// Fused bias + ReLU (the epilogue after a convolution or dense GEMM) and the ReLU backward.
// Any layout whose last axis is the channel (NHWC, or (batch, features)).
// Indices are int32: the wrapper checks every buffer has fewer than 2^31 - 2^24 elements.

// Launch: 1-D grid-stride over total = rows*channels elements.
// Layout: x, y (rows, channels), may be the same buffer (in place); bias (channels,).
// y = max(x + bias, 0) when apply_relu, else x + bias; NaN passes through as in xp.maximum.
// Reference: reference.bias_relu_forward.
extern "C" __global__ void bias_relu_forward_nhwc(const float* x, const float* bias, float* y, int total,
                                                  int channels, int apply_relu) {
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const float value = x[index] + bias[index % channels];
        y[index] = apply_relu && value < 0.0f ? 0.0f : value;
    }
}

// Launch: 1-D grid-stride over total elements.
// Layout: gy, y, gx any shape, flat and contiguous; gx = gy * (y > 0), as the reference writes it.
// Reference: reference.relu_backward.
extern "C" __global__ void relu_backward_flat(const float* gy, const float* y, float* gx, int total) {
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        gx[index] = gy[index] * (y[index] > 0.0f ? 1.0f : 0.0f);
    }
}
