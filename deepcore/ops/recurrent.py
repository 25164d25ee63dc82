"""Whole-sequence recurrent ops with explicit backpropagation through time: SimpleRNN, LSTM, GRU.

Keras layouts: kernel (features, k*units), recurrent_kernel (units, k*units),
gates side by side in Keras' order (LSTM i, f, c, o; GRU z, r, h). The input
projection of every step is one GEMM before the loop; each step then costs one
(batch, units) x (units, k*units) GEMM forward and two backward. Inputs are
batch-major (N, T, F); the loop runs time-major so each step's slice is contiguous.

``recurrent_mask`` (optional, constant) multiplies the previous state where it
enters the recurrent GEMM: recurrent dropout (Gal & Ghahramani 2016).

``step_mask`` (optional, constant, (N, T) booleans) skips steps: where it is False the states
are carried over unchanged, so the step's output repeats the previous one (Keras' masking).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import get_array_module

# name -> (f(xp, a), f'(a) written through y = f(a))
ACTIVATIONS = {
    "tanh": (lambda xp, a: xp.tanh(a), lambda xp, y: 1 - y * y),
    "sigmoid": (lambda xp, a: 0.5 * (xp.tanh(0.5 * a) + 1), lambda xp, y: y * (1 - y)),
    "hard_sigmoid": (lambda xp, a: xp.clip(a / 6 + 0.5, 0, 1),
                     lambda xp, y: (((y > 0) & (y < 1)) / 6).astype(y.dtype)),
    "relu": (lambda xp, a: xp.maximum(a, 0), lambda xp, y: (y > 0).astype(y.dtype)),
    "linear": (lambda xp, a: a, lambda xp, y: xp.ones_like(y)),
}


class _Recurrent(Function):
    def __init__(self, activation="tanh", recurrent_activation="sigmoid", recurrent_mask=None, step_mask=None):
        self.act, self.act_grad = ACTIVATIONS[activation]
        self.gate, self.gate_grad = ACTIVATIONS[recurrent_activation]
        self.mask = recurrent_mask
        self.step_mask = step_mask  # time-major (T, N, 1) of 0/1 once forward has seen the dtype

    def _prepare_step_mask(self, x):
        if self.step_mask is not None:
            self.step_mask = self.step_mask.T[..., None].astype(x.dtype)

    def _carry(self, t, new, old):
        """The new state where step t is unmasked, else the old one."""
        if self.step_mask is None:
            return new
        m = self.step_mask[t]
        return m * new + (1 - m) * old

    def _split(self, t, grad):
        """(part of grad for the step's computation, part that skips to the previous state)."""
        if self.step_mask is None:
            return grad, 0
        m = self.step_mask[t]
        return grad * m, grad * (1 - m)

    def _project(self, x, w, b):
        """x @ w + b for every step at once, time-major: (T, N, k*units)."""
        xp = get_array_module(x)
        return xp.ascontiguousarray((x @ w + b).transpose(1, 0, 2))

    def _masked(self, h):
        return h if self.mask is None else h * self.mask

    def _input_grads(self, dxw_time_major, x, w):
        """Gradients of x, kernel and input bias from d(x @ w + b)."""
        dxw = dxw_time_major.transpose(1, 0, 2)
        dx = dxw @ w.T if self.needs_input_grad[0] else None
        dw = x.reshape(-1, x.shape[-1]).T @ dxw.reshape(-1, dxw.shape[-1]) if self.needs_input_grad[1] else None
        return dx, dw, dxw_time_major.sum(axis=(0, 1))


class SimpleRNN(_Recurrent):
    """h_t = activation(x_t W + h_{t-1} U + b); output (N, T, units), every h_t."""

    def forward(self, x, w, u, b, h0):
        xp = get_array_module(x)
        self.x, self.w, self.u = x, w, u
        xw = self._project(x, w, b)
        self._prepare_step_mask(x)
        self.h = xp.empty((xw.shape[0] + 1,) + h0.shape, dtype=x.dtype)
        self.new = xp.empty((xw.shape[0],) + h0.shape, dtype=x.dtype)
        self.h[0] = h0
        for t in range(xw.shape[0]):
            self.new[t] = self.act(xp, xw[t] + self._masked(self.h[t]) @ u)
            self.h[t + 1] = self._carry(t, self.new[t], self.h[t])
        return self.h[1:].transpose(1, 0, 2)

    def backward(self, g):
        xp = get_array_module(g)
        g = g.transpose(1, 0, 2)
        da = xp.empty_like(g)
        du, dh = xp.zeros_like(self.u), xp.zeros_like(self.h[0])
        for t in reversed(range(g.shape[0])):
            step, skip = self._split(t, g[t] + dh)
            da[t] = step * self.act_grad(xp, self.new[t])
            du += self._masked(self.h[t]).T @ da[t]
            dh = self._masked(da[t] @ self.u.T) + skip
        dx, dw, db = self._input_grads(da, self.x, self.w)
        return dx, dw, du, db, dh


class LSTM(_Recurrent):
    """Hochreiter & Schmidhuber 1997, Keras gate order i, f, c, o:
    c_t = f * c_{t-1} + i * act(z_c), h_t = o * act(c_t). Output (N, T, 2*units): [h_t | c_t]."""

    def forward(self, x, w, u, b, h0, c0):
        xp = get_array_module(x)
        self.x, self.w, self.u = x, w, u
        xw = self._project(x, w, b)
        self._prepare_step_mask(x)
        steps, n = xw.shape[:2]
        units = h0.shape[-1]
        self.gates = xp.empty((steps, n, 4 * units), dtype=x.dtype)  # activated i, f, g, o
        self.h = xp.empty((steps + 1, n, units), dtype=x.dtype)
        self.c = xp.empty((steps + 1, n, units), dtype=x.dtype)
        self.act_c = xp.empty((steps, n, units), dtype=x.dtype)
        self.h[0], self.c[0] = h0, c0
        for t in range(steps):
            z = xw[t] + self._masked(self.h[t]) @ u
            gates = self.gates[t]
            gates[:, :2 * units] = self.gate(xp, z[:, :2 * units])
            gates[:, 2 * units:3 * units] = self.act(xp, z[:, 2 * units:3 * units])
            gates[:, 3 * units:] = self.gate(xp, z[:, 3 * units:])
            i, f, g, o = (gates[:, k * units:(k + 1) * units] for k in range(4))
            c = f * self.c[t] + i * g
            self.act_c[t] = self.act(xp, c)
            self.c[t + 1] = self._carry(t, c, self.c[t])
            self.h[t + 1] = self._carry(t, o * self.act_c[t], self.h[t])
        return xp.concatenate([self.h[1:], self.c[1:]], axis=-1).transpose(1, 0, 2)

    def backward(self, grad):
        xp = get_array_module(grad)
        units = self.h.shape[-1]
        grad = grad.transpose(1, 0, 2)
        dz = xp.empty_like(self.gates)
        du = xp.zeros_like(self.u)
        dh, dc = xp.zeros_like(self.h[0]), xp.zeros_like(self.c[0])
        for t in reversed(range(grad.shape[0])):
            i, f, g, o = (self.gates[t][:, k * units:(k + 1) * units] for k in range(4))
            dh, skip_h = self._split(t, grad[t, :, :units] + dh)
            dc, skip_c = self._split(t, grad[t, :, units:] + dc)
            dc = dc + dh * o * self.act_grad(xp, self.act_c[t])
            dz[t, :, :units] = dc * g * self.gate_grad(xp, i)
            dz[t, :, units:2 * units] = dc * self.c[t] * self.gate_grad(xp, f)
            dz[t, :, 2 * units:3 * units] = dc * i * self.act_grad(xp, g)
            dz[t, :, 3 * units:] = dh * self.act_c[t] * self.gate_grad(xp, o)
            du += self._masked(self.h[t]).T @ dz[t]
            dh = self._masked(dz[t] @ self.u.T) + skip_h
            dc = dc * f + skip_c
        dx, dw, db = self._input_grads(dz, self.x, self.w)
        return dx, dw, du, db, dh, dc


class GRU(_Recurrent):
    """Cho et al. 2014, Keras gate order z, r, h; h_t = z * h_{t-1} + (1 - z) * candidate.

    reset_after=True (Keras' default, cuDNN's): candidate = act(x W_h + b_h + r * (h U_h + b'_h)), bias (2, 3u);
    reset_after=False: candidate = act(x W_h + b_h + (r * h) U_h), bias (3u,).
    """

    def __init__(self, reset_after=True, **kwargs):
        super().__init__(**kwargs)
        self.reset_after = reset_after

    def forward(self, x, w, u, b, h0):
        xp = get_array_module(x)
        self.x, self.w, self.u = x, w, u
        units = h0.shape[-1]
        xw = self._project(x, w, b[0] if self.reset_after else b)
        self._prepare_step_mask(x)
        steps, n = xw.shape[:2]
        self.h = xp.empty((steps + 1, n, units), dtype=x.dtype)
        self.zrh = xp.empty((steps, n, 3 * units), dtype=x.dtype)  # activated z, r, candidate
        self.rec_h = xp.empty((steps, n, units), dtype=x.dtype)  # h U_h + b'_h, or (r * h) before U_h
        self.h[0] = h0
        for t in range(steps):
            h = self._masked(self.h[t])
            zrh = self.zrh[t]
            if self.reset_after:
                rec = h @ u + b[1]
                zrh[:, :2 * units] = self.gate(xp, xw[t, :, :2 * units] + rec[:, :2 * units])
                self.rec_h[t] = rec[:, 2 * units:]
                zrh[:, 2 * units:] = self.act(xp, xw[t, :, 2 * units:] + zrh[:, units:2 * units] * self.rec_h[t])
            else:
                zrh[:, :2 * units] = self.gate(xp, xw[t, :, :2 * units] + h @ u[:, :2 * units])
                self.rec_h[t] = zrh[:, units:2 * units] * h
                zrh[:, 2 * units:] = self.act(xp, xw[t, :, 2 * units:] + self.rec_h[t] @ u[:, 2 * units:])
            z = zrh[:, :units]
            self.h[t + 1] = self._carry(t, z * self.h[t] + (1 - z) * zrh[:, 2 * units:], self.h[t])
        return self.h[1:].transpose(1, 0, 2)

    def backward(self, grad):
        xp = get_array_module(grad)
        units = self.h.shape[-1]
        grad = grad.transpose(1, 0, 2)
        dxw = xp.empty_like(self.zrh)
        du = xp.zeros_like(self.u)
        db_rec = xp.zeros((3 * units,), dtype=grad.dtype)
        dh = xp.zeros_like(self.h[0])
        for t in reversed(range(grad.shape[0])):
            z, r, cand = (self.zrh[t][:, k * units:(k + 1) * units] for k in range(3))
            h_prev, h = self.h[t], self._masked(self.h[t])
            dh, skip = self._split(t, grad[t] + dh)
            da_h = dh * (1 - z) * self.act_grad(xp, cand)
            da_z = dh * (h_prev - cand) * self.gate_grad(xp, z)
            dh_prev = dh * z
            if self.reset_after:
                da_r = da_h * self.rec_h[t] * self.gate_grad(xp, r)
                drec = xp.concatenate([da_z, da_r, da_h * r], axis=-1)
                du += h.T @ drec
                db_rec += drec.sum(axis=0)
                dh_prev += self._masked(drec @ self.u.T)
            else:
                d_rh = da_h @ self.u[:, 2 * units:].T
                da_r = d_rh * h * self.gate_grad(xp, r)
                dzr = xp.concatenate([da_z, da_r], axis=-1)
                du[:, :2 * units] += h.T @ dzr
                du[:, 2 * units:] += self.rec_h[t].T @ da_h
                dh_prev += self._masked(dzr @ self.u[:, :2 * units].T + d_rh * r)
            dxw[t] = xp.concatenate([da_z, da_r, da_h], axis=-1)
            dh = dh_prev + skip
        dx, dw, db = self._input_grads(dxw, self.x, self.w)
        if self.reset_after:
            db = xp.stack([db, db_rec])
        return dx, dw, du, db, dh


def simple_rnn(x, kernel, recurrent_kernel, bias, h0, activation="tanh", recurrent_mask=None, step_mask=None):
    return SimpleRNN.apply(x, kernel, recurrent_kernel, bias, h0, activation=activation,
                           recurrent_mask=recurrent_mask, step_mask=step_mask)


def lstm(x, kernel, recurrent_kernel, bias, h0, c0, activation="tanh", recurrent_activation="sigmoid",
         recurrent_mask=None, step_mask=None):
    """Returns (N, T, 2*units): every h_t, then every c_t, on the last axis."""
    return LSTM.apply(x, kernel, recurrent_kernel, bias, h0, c0, activation=activation,
                      recurrent_activation=recurrent_activation, recurrent_mask=recurrent_mask, step_mask=step_mask)


def gru(x, kernel, recurrent_kernel, bias, h0, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
        recurrent_mask=None, step_mask=None):
    return GRU.apply(x, kernel, recurrent_kernel, bias, h0, activation=activation,
                     recurrent_activation=recurrent_activation, reset_after=reset_after,
                     recurrent_mask=recurrent_mask, step_mask=step_mask)
