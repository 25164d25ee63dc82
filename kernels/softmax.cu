// Softmax, and softmax cross-entropy with integer labels, over the last axis, max-subtracted (log-sum-exp).
// Indices are int32: the wrapper checks every buffer has fewer than 2^31 - 2^24 elements.

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

__device__ inline float warp_max(float value) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        value = fmaxf(value, __shfl_xor_sync(kFullMask, value, offset));
    }
    return value;
}

__device__ inline float warp_sum(float value) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        value += __shfl_xor_sync(kFullMask, value, offset);
    }
    return value;
}

// One warp: p = exp(z - max z) / sum for a row of `classes` values (lane-strided); returns the sum and
// sets *largest to max z.
__device__ inline float softmax_row(const float* z, float* p, int classes, int lane, float* largest) {
    float top = -1.0f / 0.0f;  // IEEE 754 -inf (NVRTC has no INFINITY without headers)
    for (int j = lane; j < classes; j += kWarpSize) top = fmaxf(top, z[j]);
    top = warp_max(top);
    float total = 0.0f;
    for (int j = lane; j < classes; j += kWarpSize) total += expf(z[j] - top);
    total = warp_sum(total);
    for (int j = lane; j < classes; j += kWarpSize) p[j] = expf(z[j] - top) / total;
    *largest = top;
    return total;
}

// Launch: 1-D, blockDim.x a multiple of 32; one warp per row, grid-stride over rows.
// Layout: x, y (rows, classes), the softmax over each row.
// Reference: reference.softmax_forward.
extern "C" __global__ void softmax_forward_rows(const float* x, float* y, int rows, int classes) {
    const int lane = threadIdx.x % kWarpSize;
    const int warps = blockDim.x * gridDim.x / kWarpSize;
    for (int row = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize; row < rows; row += warps) {
        float largest;
        softmax_row(x + row * classes, y + row * classes, classes, lane, &largest);
    }
}

// Launch: 1-D, blockDim.x a multiple of 32; one warp per row, grid-stride over rows.
// Layout: logits, probabilities (rows, classes); labels int32 (rows,); loss (rows,).
// loss = log(sum(exp(z - max z))) - (z[label] - max z); a label outside [0, classes) gives NaN.
// Reference: reference.softmax_cross_entropy_forward.
extern "C" __global__ void softmax_cross_entropy_forward_rows(const float* logits, const int* labels, float* loss,
                                                              float* probabilities, int rows, int classes) {
    const int lane = threadIdx.x % kWarpSize;
    const int warps = blockDim.x * gridDim.x / kWarpSize;
    for (int row = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize; row < rows; row += warps) {
        const float* z = logits + row * classes;
        float largest;
        const float total = softmax_row(z, probabilities + row * classes, classes, lane, &largest);
        if (lane == 0) {
            const int label = labels[row];
            loss[row] = label >= 0 && label < classes ? logf(total) - (z[label] - largest) : nanf("");
        }
    }
}

// Launch: 1-D grid-stride over rows*classes elements.
// Layout: probabilities, grad (rows, classes); labels int32 (rows,); g_loss (rows,).
// grad = (probabilities - onehot(label)) * g_loss[row].
// Reference: reference.softmax_cross_entropy_backward.
extern "C" __global__ void softmax_cross_entropy_backward_rows(const float* probabilities, const int* labels,
                                                               const float* g_loss, float* grad, int rows,
                                                               int classes) {
    const int total = rows * classes;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int row = index / classes;
        const float hit = index - row * classes == labels[row] ? 1.0f : 0.0f;
        grad[index] = (probabilities[index] - hit) * g_loss[row];
    }
}
