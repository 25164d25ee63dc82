// Optimizer updates over many parameter tensors in one launch (multi-tensor apply).
// The tensors are given as device arrays of pointers plus offsets, the prefix sums
// of their sizes (offsets[0] = 0, offsets[tensors] = total); a single flat buffer
// is the case tensors = 1. Element k of tensor t is global index offsets[t] + k.
// Indices are int32: the wrapper checks the total is below 2^31 - 2^24.

// The tensor holding global element `index`: the last t with offsets[t] <= index (binary search).
__device__ inline int tensor_of(const int* offsets, int tensors, int index) {
    int low = 0;
    int high = tensors - 1;
    while (low < high) {
        const int middle = (low + high + 1) / 2;
        if (offsets[middle] <= index) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    return low;
}

// Launch: 1-D grid-stride over offsets[tensors] elements.
// Layout: weights, grads, velocities: (tensors,) pointers to contiguous float32 tensors; offsets (tensors + 1,).
// Keras SGD: v = momentum * v - lr * g; w += v, or w += momentum * v - lr * g with nesterov;
// with momentum = 0, w -= lr * g and velocities is not read.
// Reference: optimizers.SGD.update (cuda_fused_reference.sgd_momentum_update).
extern "C" __global__ void sgd_momentum_update_multi(float* const* weights, const float* const* grads,
                                                     float* const* velocities, const int* offsets, int tensors,
                                                     float learning_rate, float momentum, int nesterov) {
    const int total = offsets[tensors];
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int t = tensor_of(offsets, tensors, index);
        const int k = index - offsets[t];
        const float g = grads[t][k];
        if (momentum == 0.0f) {
            weights[t][k] -= learning_rate * g;
            continue;
        }
        const float v = velocities[t][k] * momentum - learning_rate * g;
        velocities[t][k] = v;
        weights[t][k] += nesterov ? momentum * v - learning_rate * g : v;
    }
}

// Launch: 1-D grid-stride over offsets[tensors] elements.
// Layout: weights, grads, firsts (m), seconds (v): (tensors,) pointers to contiguous float32 tensors;
// offsets (tensors + 1,). step_size = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), computed on the host.
// Kingma & Ba 2015, Alg. 1 with Keras' epsilon placement: w -= step_size * m / (sqrt(v) + epsilon).
// Reference: optimizers.Adam.update (cuda_fused_reference.adam_update).
extern "C" __global__ void adam_update_multi(float* const* weights, const float* const* grads,
                                             float* const* firsts, float* const* seconds, const int* offsets,
                                             int tensors, float step_size, float beta_1, float beta_2,
                                             float epsilon) {
    const int total = offsets[tensors];
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const int t = tensor_of(offsets, tensors, index);
        const int k = index - offsets[t];
        const float g = grads[t][k];
        const float m = firsts[t][k] * beta_1 + (1.0f - beta_1) * g;
        const float v = seconds[t][k] * beta_2 + (1.0f - beta_2) * (g * g);
        firsts[t][k] = m;
        seconds[t][k] = v;
        weights[t][k] -= step_size * m / (sqrtf(v) + epsilon);
    }
}
