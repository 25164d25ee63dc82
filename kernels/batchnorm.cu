// Batch normalization over every axis but the last (channels), NHWC seen as (rows, channels)
// with the channel fastest. Ioffe & Szegedy 2015, Alg. 1; biased batch variance (Keras).
//
// Per-channel reductions run in two launches, so any (rows, channels) shape works
// without atomics and the result does not depend on scheduling:
//   1. *_partial_*: block (32 channels, 8 rows); block row b reduces rows b*8 + ty, stepping
//      8*gridDim.y, and writes one partial per (blockIdx.y, channel).
//   2. *_finalize_*: one warp per channel combines the gridDim.y partials with shuffles.
// Statistics use Welford's update per thread and Chan et al.'s (1979) pairwise
// combination, one pass over x and numerically stable for any mean.
//
// The fused BatchNorm+ReLU variants take fuse_relu = 1 and the ReLU output:
// forward clamps at 0, backward masks the incoming gradient with relu_output > 0.
// Indices are int32: the wrapper checks every buffer has fewer than 2^31 - 2^24 elements.

constexpr int kChannelsPerBlock = 32;  // blockDim.x of the *_partial_* kernels
constexpr int kRowsPerBlock = 8;       // blockDim.y of the *_partial_* kernels (a power of two)
constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct Moments {
    float count;
    float mean;
    float m2;  // sum of squared deviations from mean
};

// Chan, Golub & LeVeque 1979: moments of the union of two disjoint sets.
__device__ inline Moments combine(Moments a, Moments b) {
    const float count = a.count + b.count;
    if (count == 0.0f) return a;
    const float delta = b.mean - a.mean;
    const float weight = b.count / count;
    return {count, a.mean + delta * weight, a.m2 + b.m2 + delta * delta * a.count * weight};
}

// Gradient arriving at the BatchNorm output: gy, or gy * (relu_output > 0) when ReLU is fused.
__device__ inline float incoming_gradient(const float* gy, const float* relu_output, int fuse_relu, int index) {
    return fuse_relu ? gy[index] * (relu_output[index] > 0.0f ? 1.0f : 0.0f) : gy[index];
}

// Launch: block (kChannelsPerBlock, kRowsPerBlock), grid (ceil(channels / 32), partial_rows).
// Layout: x (rows, channels); partial (3, partial_rows, channels) = count, mean, m2.
// Reference: the mean/variance of reference.batchnorm_forward_train.
extern "C" __global__ void batchnorm_partial_moments(const float* x, float* partial, int rows, int channels) {
    __shared__ float counts[kRowsPerBlock][kChannelsPerBlock];
    __shared__ float means[kRowsPerBlock][kChannelsPerBlock];
    __shared__ float m2s[kRowsPerBlock][kChannelsPerBlock];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int channel = blockIdx.x * kChannelsPerBlock + tx;
    Moments local = {0.0f, 0.0f, 0.0f};
    if (channel < channels) {
        for (int row = blockIdx.y * kRowsPerBlock + ty; row < rows; row += kRowsPerBlock * gridDim.y) {
            const float value = x[row * channels + channel];
            local.count += 1.0f;
            const float delta = value - local.mean;
            local.mean += delta / local.count;
            local.m2 += delta * (value - local.mean);
        }
    }
    counts[ty][tx] = local.count;
    means[ty][tx] = local.mean;
    m2s[ty][tx] = local.m2;
    __syncthreads();
    for (int half = kRowsPerBlock / 2; half > 0; half /= 2) {
        if (ty < half) {
            const Moments merged = combine({counts[ty][tx], means[ty][tx], m2s[ty][tx]},
                                           {counts[ty + half][tx], means[ty + half][tx], m2s[ty + half][tx]});
            counts[ty][tx] = merged.count;
            means[ty][tx] = merged.mean;
            m2s[ty][tx] = merged.m2;
        }
        __syncthreads();
    }
    if (ty == 0 && channel < channels) {
        const int plane = gridDim.y * channels;
        const int slot = blockIdx.y * channels + channel;
        partial[slot] = counts[0][tx];
        partial[plane + slot] = means[0][tx];
        partial[2 * plane + slot] = m2s[0][tx];
    }
}

// Launch: 1-D, blockDim.x a multiple of 32; one warp per channel, grid-stride over channels.
// Layout: partial (3, partial_rows, channels) from batchnorm_partial_moments; outputs (channels,).
// Reference: reference.batchnorm_forward_train (mean, biased variance, inv_std = 1/sqrt(variance + epsilon)).
extern "C" __global__ void batchnorm_finalize_moments(const float* partial, int partial_rows, int channels,
                                                      float epsilon, float* mean, float* variance,
                                                      float* inv_std) {
    const int lane = threadIdx.x % kWarpSize;
    const int warps = blockDim.x * gridDim.x / kWarpSize;
    const int plane = partial_rows * channels;
    for (int channel = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize; channel < channels;
         channel += warps) {
        Moments local = {0.0f, 0.0f, 0.0f};
        for (int row = lane; row < partial_rows; row += kWarpSize) {
            const int slot = row * channels + channel;
            local = combine(local, {partial[slot], partial[plane + slot], partial[2 * plane + slot]});
        }
        for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
            const Moments other = {__shfl_down_sync(kFullMask, local.count, offset),
                                   __shfl_down_sync(kFullMask, local.mean, offset),
                                   __shfl_down_sync(kFullMask, local.m2, offset)};
            local = combine(local, other);
        }
        if (lane == 0) {
            const float biased_variance = local.m2 / local.count;
            mean[channel] = local.mean;
            variance[channel] = biased_variance;
            inv_std[channel] = 1.0f / sqrtf(biased_variance + epsilon);
        }
    }
}

// Launch: 1-D grid-stride over rows*channels.
// Layout: x, y (rows, channels); mean, inv_std, gamma, beta (channels,).
// y = (x - mean) * (inv_std * gamma) + beta, then max(y, 0) when fuse_relu.
// Reference: reference.batchnorm_forward_train (y), and bias_relu_forward's clamp when fused.
extern "C" __global__ void batchnorm_normalize(const float* x, const float* mean, const float* inv_std,
                                               const float* gamma, const float* beta, float* y, int total,
                                               int channels, int fuse_relu) {
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int channel = index % channels;
        const float value = (x[index] - mean[channel]) * (inv_std[channel] * gamma[channel]) + beta[channel];
        y[index] = fuse_relu && value < 0.0f ? 0.0f : value;
    }
}

// Launch: 1-D grid-stride over rows*channels.
// Layout: x, y (rows, channels); gamma, beta, mean, variance (channels,).
// Reference: reference.batchnorm_forward_infer.
extern "C" __global__ void batchnorm_forward_infer_nhwc(const float* x, const float* gamma, const float* beta,
                                                        const float* mean, const float* variance, float epsilon,
                                                        float* y, int total, int channels) {
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int channel = index % channels;
        const float scale = gamma[channel] / sqrtf(variance[channel] + epsilon);
        y[index] = x[index] * scale + (beta[channel] - mean[channel] * scale);
    }
}

// Launch: block (kChannelsPerBlock, kRowsPerBlock), grid (ceil(channels / 32), partial_rows).
// Layout: gy, x, relu_output (rows, channels); mean, inv_std (channels,);
// partial (2, partial_rows, channels) = sum(g), sum(g * xhat) with xhat = (x - mean) * inv_std.
// Reference: gbeta and ggamma of reference.batchnorm_backward.
extern "C" __global__ void batchnorm_backward_partial_sums(const float* gy, const float* x,
                                                          const float* relu_output, int fuse_relu,
                                                          const float* mean, const float* inv_std,
                                                          float* partial, int rows, int channels) {
    __shared__ float sums[kRowsPerBlock][kChannelsPerBlock];
    __shared__ float dots[kRowsPerBlock][kChannelsPerBlock];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int channel = blockIdx.x * kChannelsPerBlock + tx;
    float sum = 0.0f;
    float dot = 0.0f;
    if (channel < channels) {
        const float channel_mean = mean[channel];
        const float channel_inv_std = inv_std[channel];
        for (int row = blockIdx.y * kRowsPerBlock + ty; row < rows; row += kRowsPerBlock * gridDim.y) {
            const int index = row * channels + channel;
            const float g = incoming_gradient(gy, relu_output, fuse_relu, index);
            sum += g;
            dot += g * ((x[index] - channel_mean) * channel_inv_std);
        }
    }
    sums[ty][tx] = sum;
    dots[ty][tx] = dot;
    __syncthreads();
    for (int half = kRowsPerBlock / 2; half > 0; half /= 2) {
        if (ty < half) {
            sums[ty][tx] += sums[ty + half][tx];
            dots[ty][tx] += dots[ty + half][tx];
        }
        __syncthreads();
    }
    if (ty == 0 && channel < channels) {
        const int slot = blockIdx.y * channels + channel;
        partial[slot] = sums[0][tx];
        partial[gridDim.y * channels + slot] = dots[0][tx];
    }
}

// Launch: 1-D, blockDim.x a multiple of 32; one warp per channel, grid-stride over channels.
// Layout: partial (2, partial_rows, channels) from batchnorm_backward_partial_sums; ggamma, gbeta (channels,).
// Reference: ggamma, gbeta of reference.batchnorm_backward.
extern "C" __global__ void batchnorm_backward_finalize(const float* partial, int partial_rows, int channels,
                                                       float* ggamma, float* gbeta) {
    const int lane = threadIdx.x % kWarpSize;
    const int warps = blockDim.x * gridDim.x / kWarpSize;
    const int plane = partial_rows * channels;
    for (int channel = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize; channel < channels;
         channel += warps) {
        float sum = 0.0f;
        float dot = 0.0f;
        for (int row = lane; row < partial_rows; row += kWarpSize) {
            sum += partial[row * channels + channel];
            dot += partial[plane + row * channels + channel];
        }
        for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
            sum += __shfl_down_sync(kFullMask, sum, offset);
            dot += __shfl_down_sync(kFullMask, dot, offset);
        }
        if (lane == 0) {
            gbeta[channel] = sum;
            ggamma[channel] = dot;
        }
    }
}

// Launch: 1-D grid-stride over rows*channels.
// Layout: gy, x, relu_output, gx (rows, channels); mean, inv_std, gamma, ggamma, gbeta (channels,).
// gx = gamma * inv_std / m * (m * g - gbeta - xhat * ggamma), m = rows.
// Reference: gx of reference.batchnorm_backward.
extern "C" __global__ void batchnorm_backward_data(const float* gy, const float* x, const float* relu_output,
                                                   int fuse_relu, const float* mean, const float* inv_std,
                                                   const float* gamma, const float* ggamma, const float* gbeta,
                                                   float* gx, int total, int channels, int rows) {
    const float m = float(rows);
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int channel = index % channels;
        const float g = incoming_gradient(gy, relu_output, fuse_relu, index);
        const float xhat = (x[index] - mean[channel]) * inv_std[channel];
        gx[index] = (gamma[channel] * inv_std[channel] / m) * (m * g - gbeta[channel] - xhat * ggamma[channel]);
    }
}
