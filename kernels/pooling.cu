// Max and average pooling 2-D, NHWC, explicit padding ((top, bottom), (left, right)).
//
// Backward passes gather: each input pixel sums over the output windows that
// cover it, so overlapping windows (stride < pool) need no atomics and every
// gradient element is written exactly once. Windows are visited in the
// reference's (i, j) order (i.e. output rows and columns descending), so the
// float sums round exactly as reference.py's.
//
// Indices are int32: the wrapper checks every buffer has fewer than 2^31 - 2^24 elements.

// IEEE 754: -1/0 is -inf (NVRTC has no INFINITY without headers).
__device__ inline float negative_infinity() { return -1.0f / 0.0f; }

__device__ inline int smaller(int a, int b) { return a < b ? a : b; }

// Coordinates of a flat index into an (batch, height, width, channels) array.
struct Pixel {
    int n;
    int row;
    int col;
    int channel;
};

__device__ inline Pixel unflatten(int index, int height, int width, int channels) {
    const int channel = index % channels;
    index /= channels;
    const int col = index % width;
    index /= width;
    return {index / height, index % height, col, channel};
}

// The output windows [o*stride - pad, o*stride - pad + pool) that contain input position
// `padded` (= position + pad): o from first to last, both included (none when first > last).
struct Windows {
    int first;
    int last;
};

__device__ inline Windows covering_windows(int padded, int pool, int stride, int out_size) {
    return {padded < pool ? 0 : (padded - pool) / stride + 1, smaller(padded / stride, out_size - 1)};
}

// Real (unpadded) pixels in a window starting at `start` of length `pool` over [0, size).
__device__ inline int real_extent(int start, int pool, int size) {
    const int end = smaller(start + pool, size);
    const int begin = start > 0 ? start : 0;
    return end > begin ? end - begin : 0;
}

// Launch: 1-D grid-stride over batch*out_h*out_w*channels, one thread per output element.
// Layout: x (batch, height, width, channels); y and argmax (batch, out_h, out_w, channels).
// argmax is the flat window offset i*pool_w + j of the first strict maximum; padding never wins.
// Reference: reference.maxpool2d_forward.
extern "C" __global__ void maxpool2d_forward_nhwc(const float* x, float* y, int* argmax, int batch, int height,
                                                  int width, int channels, int out_h, int out_w, int pool_h,
                                                  int pool_w, int stride_h, int stride_w, int pad_top,
                                                  int pad_left) {
    const int total = batch * out_h * out_w * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const Pixel out = unflatten(index, out_h, out_w, channels);
        const int top = out.row * stride_h - pad_top;
        const int left = out.col * stride_w - pad_left;
        float best = negative_infinity();
        int best_offset = 0;
        for (int i = 0; i < pool_h; ++i) {
            const int row = top + i;
            if (row < 0 || row >= height) continue;
            for (int j = 0; j < pool_w; ++j) {
                const int col = left + j;
                if (col < 0 || col >= width) continue;
                const float value = x[((out.n * height + row) * width + col) * channels + out.channel];
                if (value > best) {
                    best = value;
                    best_offset = i * pool_w + j;
                }
            }
        }
        y[index] = best;
        argmax[index] = best_offset;
    }
}

// Launch: 1-D grid-stride over batch*height*width*channels, one thread per input element (gather).
// Layout: gy and argmax (batch, out_h, out_w, channels); gx (batch, height, width, channels), fully overwritten.
// Reference: reference.maxpool2d_backward.
extern "C" __global__ void maxpool2d_backward_nhwc(const float* gy, const int* argmax, float* gx, int batch,
                                                   int height, int width, int channels, int out_h, int out_w,
                                                   int pool_h, int pool_w, int stride_h, int stride_w,
                                                   int pad_top, int pad_left) {
    const int total = batch * height * width * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const Pixel in = unflatten(index, height, width, channels);
        const int padded_row = in.row + pad_top;
        const int padded_col = in.col + pad_left;
        const Windows rows = covering_windows(padded_row, pool_h, stride_h, out_h);
        const Windows cols = covering_windows(padded_col, pool_w, stride_w, out_w);
        float sum = 0.0f;
        for (int oh = rows.last; oh >= rows.first; --oh) {
            const int i = padded_row - oh * stride_h;
            for (int ow = cols.last; ow >= cols.first; --ow) {
                const int j = padded_col - ow * stride_w;
                const int out_index = ((in.n * out_h + oh) * out_w + ow) * channels + in.channel;
                if (argmax[out_index] == i * pool_w + j) sum += gy[out_index];
            }
        }
        gx[index] = sum;
    }
}

// Launch: 1-D grid-stride over batch*out_h*out_w*channels, one thread per output element.
// Layout: x (batch, height, width, channels); y (batch, out_h, out_w, channels).
// The mean counts real pixels only (Keras); a window of padding only gives 0/0 = NaN, as the reference.
// Reference: reference.avgpool2d_forward.
extern "C" __global__ void avgpool2d_forward_nhwc(const float* x, float* y, int batch, int height, int width,
                                                  int channels, int out_h, int out_w, int pool_h, int pool_w,
                                                  int stride_h, int stride_w, int pad_top, int pad_left) {
    const int total = batch * out_h * out_w * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const Pixel out = unflatten(index, out_h, out_w, channels);
        const int top = out.row * stride_h - pad_top;
        const int left = out.col * stride_w - pad_left;
        float sum = 0.0f;
        for (int i = 0; i < pool_h; ++i) {
            const int row = top + i;
            if (row < 0 || row >= height) continue;
            for (int j = 0; j < pool_w; ++j) {
                const int col = left + j;
                if (col < 0 || col >= width) continue;
                sum += x[((out.n * height + row) * width + col) * channels + out.channel];
            }
        }
        const float count = float(real_extent(top, pool_h, height) * real_extent(left, pool_w, width));
        y[index] = sum / count;
    }
}

// Launch: 1-D grid-stride over batch*height*width*channels, one thread per input element (gather).
// Layout: gy (batch, out_h, out_w, channels); gx (batch, height, width, channels), fully overwritten.
// Reference: reference.avgpool2d_backward.
extern "C" __global__ void avgpool2d_backward_nhwc(const float* gy, float* gx, int batch, int height, int width,
                                                   int channels, int out_h, int out_w, int pool_h, int pool_w,
                                                   int stride_h, int stride_w, int pad_top, int pad_left) {
    const int total = batch * height * width * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        const Pixel in = unflatten(index, height, width, channels);
        const Windows rows = covering_windows(in.row + pad_top, pool_h, stride_h, out_h);
        const Windows cols = covering_windows(in.col + pad_left, pool_w, stride_w, out_w);
        float sum = 0.0f;
        for (int oh = rows.last; oh >= rows.first; --oh) {
            const int window_rows = real_extent(oh * stride_h - pad_top, pool_h, height);
            for (int ow = cols.last; ow >= cols.first; --ow) {
                const int window_cols = real_extent(ow * stride_w - pad_left, pool_w, width);
                const float count = float(window_rows * window_cols);
                sum += gy[((in.n * out_h + oh) * out_w + ow) * channels + in.channel] / count;
            }
        }
        gx[index] = sum;
    }
}
