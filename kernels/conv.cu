// 2-D convolution, NHWC, filters (kh, kw, in, out): im2col and col2im.
//
// The GEMMs around these kernels run in cuBLAS through cupy.matmul
// (deepcore/backend/cuda_kernels.py):
//   forward         y     = cols @ w.reshape(kh*kw*in, out)
//   backward data   gcols = gy @ w.reshape(kh*kw*in, out).T, then col2im
//   backward filter gw    = cols.T @ gy
// cols is (batch*out_h*out_w, kh*kw*in) with the input channel fastest, so
// both kernels read and write consecutive addresses across a warp.
//
// Indices are int32: the wrapper checks every buffer has fewer than 2^31 - 2^24
// elements (and runs the batch in chunks so cols stays below that).

// Launch: 1-D grid-stride over batch*out_h*out_w*kh*kw*channels, one thread per cols element.
// Layout: x (batch, height, width, channels); cols (batch*out_h*out_w, kh*kw*channels), row-major.
// Reference: reference.im2col (zero outside the image: padding).
extern "C" __global__ void im2col_nhwc(const float* x, float* cols, int batch, int height, int width,
                                       int channels, int kernel_h, int kernel_w, int out_h, int out_w,
                                       int stride_h, int stride_w, int pad_top, int pad_left,
                                       int dilation_h, int dilation_w) {
    const int total = batch * out_h * out_w * kernel_h * kernel_w * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        int rest = index;
        const int channel = rest % channels;
        rest /= channels;
        const int j = rest % kernel_w;
        rest /= kernel_w;
        const int i = rest % kernel_h;
        rest /= kernel_h;
        const int ow = rest % out_w;
        rest /= out_w;
        const int oh = rest % out_h;
        const int n = rest / out_h;
        const int row = oh * stride_h + i * dilation_h - pad_top;
        const int col = ow * stride_w + j * dilation_w - pad_left;
        const bool inside = row >= 0 && row < height && col >= 0 && col < width;
        cols[index] = inside ? x[((n * height + row) * width + col) * channels + channel] : 0.0f;
    }
}

// Launch: 1-D grid-stride over batch*height*width*channels, one thread per image element.
// Each pixel gathers the cols entries of every output window that covers it, in
// the reference's (i, j) order, so no two threads write the same address (no atomics).
// Layout: cols (batch*out_h*out_w, kh*kw*channels); x (batch, height, width, channels), fully overwritten.
// Reference: reference.col2im.
extern "C" __global__ void col2im_nhwc(const float* cols, float* x, int batch, int height, int width,
                                       int channels, int kernel_h, int kernel_w, int out_h, int out_w,
                                       int stride_h, int stride_w, int pad_top, int pad_left,
                                       int dilation_h, int dilation_w) {
    const int total = batch * height * width * channels;
    const int row_length = kernel_h * kernel_w * channels;
    for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < total; index += blockDim.x * gridDim.x) {
        int rest = index;
        const int channel = rest % channels;
        rest /= channels;
        const int col = rest % width;
        rest /= width;
        const int row = rest % height;
        const int n = rest / height;
        float sum = 0.0f;
        for (int i = 0; i < kernel_h; ++i) {
            const int row_offset = row + pad_top - i * dilation_h;  // = oh * stride_h for a covering window
            if (row_offset < 0 || row_offset % stride_h != 0) continue;
            const int oh = row_offset / stride_h;
            if (oh >= out_h) continue;
            for (int j = 0; j < kernel_w; ++j) {
                const int col_offset = col + pad_left - j * dilation_w;
                if (col_offset < 0 || col_offset % stride_w != 0) continue;
                const int ow = col_offset / stride_w;
                if (ow >= out_w) continue;
                sum += cols[((n * out_h + oh) * out_w + ow) * row_length + (i * kernel_w + j) * channels + channel];
            }
        }
        x[index] = sum;
    }
}
