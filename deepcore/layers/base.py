"""Layer: Keras 3's shape — arguments checked in ``__init__``, weights made in
``build(input_shape)``, math in ``call(inputs, training=None, mask=None)``, every
constructor argument returned by ``get_config()``.

What ``__call__`` adds around ``call``, as Keras 3 does:
- builds the layer from the input shapes (``build(query_shape, value_shape)`` style too);
- ``training`` left unset is inherited from the enclosing layer call;
- masks: an input's mask (``tensor._keras_mask``) is passed as ``mask=`` (or ``<arg>_mask=``)
  when ``call`` takes it, and a layer that ``supports_masking`` attaches ``compute_mask(inputs,
  previous_mask)`` to its outputs;
- losses: ``add_loss`` values live until the next outermost call, and ``losses`` gathers them
  from the layer and its sublayers, then adds the weights' regularization penalties;
- on symbolic inputs (``dc.Input``) it records a graph node instead of computing (node.py).
"""
from __future__ import annotations

import functools
import inspect
import numbers
import re
import threading
import weakref
from collections import defaultdict

import numpy as np

from .. import constraints, initializers, regularizers
from ..autograd.tensor import Tensor, as_tensor
from ..autograd.variable import Variable
from .node import KerasTensor, infer_output_shapes, is_symbolic, shape_of, symbolic_call, zeros

_name_counts: dict = defaultdict(int)
_context = threading.local()  # .entry: the outermost layer being called; .training: its training flag

# Bookkeeping that lets a training step skip whole-model walks it does not need (the walks scan every layer's
# __dict__: ~0.35 ms per walk for ResNet-20 on 2 cores, three of them per step before):
# - the layers whose ``_losses`` is not empty (``add_loss`` puts a layer here, ``_clear_losses`` takes it out),
#   so that when none is, ``_clear_losses`` and the add_loss part of ``losses`` do nothing;
# - ``Variable.regularized``, how many Variables were ever given a regularizer, so that ``losses`` walks the
#   trainable weights for penalties only once some Variable has one.
_loss_holders: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id(layer) -> layer
_PLAIN = frozenset({str, int, float, bool, type(None)})  # attribute types that never hold a layer


def unique_name(base: str) -> str:
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def snake_case(name: str) -> str:
    """Keras' layer naming: 'Conv2D' -> 'conv2d', 'MaxPooling2D' -> 'max_pooling2d'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def positive_int(layer, argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {argument} must be a positive int, got {value!r}")
    return int(value)


def int_tuple(layer, argument, value, n=2):
    """An int or a tuple of n positive ints (Keras' kernel_size/strides style)."""
    values = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or len(values) != n:
        raise ValueError(f"{layer}: {argument} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(positive_int(layer, argument, v) for v in values)


def get_mask(tensor):
    """The mask attached to a tensor by a masking layer (None if none; a list for a list of tensors)."""
    if isinstance(tensor, (list, tuple)):
        masks = [get_mask(t) for t in tensor]
        return None if all(m is None for m in masks) else masks
    return getattr(tensor, "_keras_mask", None)


def set_mask(tensor, mask):
    if isinstance(tensor, Tensor):
        tensor._keras_mask = None if mask is None else (mask.data if isinstance(mask, Tensor) else mask)


class Layer:
    """Base class of every layer (and of Model)."""

    # rank of the input (including batch) the layer accepts, and the axis names for error messages
    input_ndim: int | None = None
    input_min_ndim: int | None = None
    input_axes: str = ""

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, activity_regularizer=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype or "float32"
        self.built = False
        self._weights: list[Variable] = []
        self._losses: list = []
        self._build_input_shape = None
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if input_shape is not None:  # Keras 2 style first layer of a Sequential
            self._declared_input_shape = tuple(input_shape)

    def __setattr__(self, name, value):
        # A new sublayer or Variable, a trainable flag: what a model trains may change (Model._trained_weights).
        # No layer sets an attribute in a training step, so this costs nothing there.
        Variable.tracking_version += 1
        object.__setattr__(self, name, value)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    def describe(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    # --- weights --------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True, regularizer=None,
                   constraint=None, aggregation="none", name=None):
        """A new Variable owned by this layer (Keras 3's signature; ``aggregation`` and ``autocast`` are
        accepted for compatibility and change nothing). The default initializer is glorot_uniform for
        floats and zeros otherwise, as Keras."""
        who = f"{self.describe()}.add_weight({name or ''})"
        shape = () if shape is None else shape
        if isinstance(shape, (int, np.integer)) or isinstance(shape, str) or not hasattr(shape, "__iter__"):
            raise ValueError(f"{who}: shape must be a tuple of non-negative ints, got {shape!r} "
                             f"(e.g. shape=({shape},) for a vector; give the name as name=...)")
        shape = tuple(shape)
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
            raise ValueError(f"{who}: shape must be a tuple of non-negative ints, got {shape!r}")
        dtype = np.dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        value = initializers.get(initializer)(tuple(int(d) for d in shape), dtype)
        value = value.data if isinstance(value, Tensor) else value
        if tuple(np.shape(value)) != shape:
            raise ValueError(f"{who}: the initializer returned shape {tuple(np.shape(value))}, expected {shape}")
        variable = Variable(value, name=f"{self.name}/{name or 'variable'}", trainable=trainable and dtype.kind == "f")
        if variable.dtype != dtype:
            variable.data = variable.data.astype(dtype)
        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        self._weights.append(variable)
        return variable

    add_variable = add_weight

    def _sublayers(self):
        """Layers held as attributes, directly or in lists, tuples and dicts (Keras' automatic tracking)."""
        found = []
        for value in self.__dict__.values():  # one plain loop: this runs for every layer of every walk
            if type(value) in _PLAIN:  # most attributes: names, flags, sizes (half the time of the scan)
                continue
            if isinstance(value, Layer):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                found += [item for item in value if isinstance(item, Layer)]
            elif isinstance(value, dict):
                found += [item for item in value.values() if isinstance(item, Layer)]
        return _unique(found)

    def _own_weights(self):
        """add_weight's Variables, then Variables assigned as attributes (``self.w = dc.Variable(...)``)."""
        return _unique(self._weights, [v for v in self.__dict__.values() if isinstance(v, Variable)])

    def _walk(self, trainable_only=False):
        """This layer and the layers it tracks, depth first, each once (skipping non-trainable layers and
        what they hold when ``trainable_only``). One loop instead of a recursion through every sublayer's
        property: the same order as the recursive definition, which emitted a layer met twice only once."""
        order, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen or (trainable_only and not layer.trainable):
                continue
            seen.add(id(layer))
            order.append(layer)
            stack += reversed(layer._sublayers())
        return order

    @property
    def weights(self):
        return _unique(*(layer._own_weights() for layer in self._walk()))

    @property
    def trainable_weights(self):
        return _unique(*([w for w in layer._own_weights() if w.trainable] for layer in self._walk(True)))

    @property
    def non_trainable_weights(self):
        trainable = self.trainable_weights
        return [w for w in self.weights if all(w is not t for t in trainable)]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"{self.describe()}: set_weights expected {len(own)} arrays, got {len(weights)}")
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    # --- losses ---------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar loss term (during ``call``); fit adds it to the compiled loss."""
        for value in (loss if isinstance(loss, (list, tuple)) else [loss]):
            if not isinstance(value, (Tensor, numbers.Number)):
                raise ValueError(f"{self.describe()}.add_loss: expected a tensor or a number, got "
                                 f"{type(value).__name__}")
            self._losses.append(value)
            _loss_holders[id(self)] = self

    def __setstate__(self, state):
        """copy.copy / deepcopy / unpickling: a copy holding add_loss values is registered as holding them."""
        self.__dict__.update(state)
        if state.get("_losses"):
            _loss_holders[id(self)] = self

    def _clear_losses(self):
        """Empty the add_loss lists of this layer and its sublayers (nothing to walk when no layer holds any)."""
        if not _loss_holders:
            return
        for layer in self._walk():
            if layer._losses:
                layer._losses.clear()
                _loss_holders.pop(id(layer), None)

    @property
    def losses(self):
        """add_loss values of the latest call (this layer's, then its sublayers'), then the penalties of
        the trainable weights' regularizers (recomputed each time, as Keras)."""
        found = [value for layer in self._walk() for value in layer._losses] if _loss_holders else []
        if Variable.regularized:
            found += [w.regularizer(w) for w in self.trainable_weights if w.regularizer is not None]
        return found

    # --- masks ------------------------------------------------------------------
    @property
    def supports_masking(self):
        """Whether outputs get ``compute_mask``'s mask (Keras 3: True when ``compute_mask`` is overridden)."""
        value = self.__dict__.get("_supports_masking")
        return type(self).compute_mask is not Layer.compute_mask if value is None else value

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def _set_output_masks(self, inputs, outputs, previous_mask):
        flat = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        if all(get_mask(t) is not None for t in flat):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        masks = masks if isinstance(masks, (list, tuple)) and isinstance(outputs, (list, tuple)) else [masks]
        for tensor, mask in zip(flat, masks):
            if get_mask(tensor) is None and mask is not None:
                set_mask(tensor, mask)

    # --- calling --------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` by running ``call`` on small zero inputs.

        Unknown (None) dimensions are tried as 1 and as 2: an output dimension
        that changes between the two runs is unknown too.
        """
        return infer_output_shapes(self, lambda unknown: ((zeros(input_shape, unknown),), {}))

    compute_output_shape.is_default = True  # overridden ones are trusted with several arguments (node.py)

    def check_input_shape(self, shape):
        """Raise a clear error when the input's rank does not fit this layer."""
        rank = len(shape)
        bad = (self.input_ndim is not None and rank != self.input_ndim) or \
              (self.input_min_ndim is not None and rank < self.input_min_ndim)
        if bad:
            expected = f"rank {self.input_ndim}" if self.input_ndim else f"rank >= {self.input_min_ndim}"
            axes = f" ({self.input_axes})" if self.input_axes else ""
            raise ValueError(f"{self.describe()}: expected input of {expected}{axes}, got shape {tuple(shape)}")

    def _maybe_build(self, input_shape):
        if not self.built:
            if isinstance(input_shape, list):
                self.build(input_shape)
            else:
                self.check_input_shape(input_shape)
                self.build(tuple(input_shape))
            self._build_input_shape = input_shape
            self.built = True

    def _build_for_call(self, tensor_arguments):
        """Build from the call's tensor shapes: ``build(input_shape)``, or ``build(query_shape, value_shape)``
        when build names one ``<argument>_shape`` parameter per tensor argument (Keras 3)."""
        if self.built:
            return
        shapes = {name: shape_of(value) for name, value in tensor_arguments.items()}
        first = next(iter(shapes.values()))
        wanted = [n for n in _parameters(type(self).build) if n != "self"]
        if len(shapes) > 1 and len(wanted) > 1 and all(n.endswith("_shape") for n in wanted):
            self.build(**{n: shapes[n[:-6]] for n in wanted if n[:-6] in shapes})
            self._build_input_shape = first
            self.built = True
        else:
            self._maybe_build(first)

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.describe()}: call the layer on its input, e.g. layer(x)")
            args = (kwargs.pop("inputs"),)
        if _has_symbolic(args) or (kwargs and _has_symbolic(kwargs.values())):
            return self._call_symbolic(*args, **kwargs)
        first = args[0]
        if isinstance(first, (list, tuple)):
            first = [as_tensor(x) for x in first]
            shape = [x.shape for x in first]
        else:
            if not isinstance(first, Tensor):
                first = as_tensor(first)
            shape = first.shape
            self.check_input_shape(shape)
        args = (first,) + tuple(as_tensor(a) if _is_array(a) else a for a in args[1:]) if len(args) > 1 else (first,)
        for key, value in kwargs.items():  # kwargs is this call's own dict: values are replaced in place
            if type(value) not in _PLAIN and _is_array(value) and not key.endswith("mask"):
                kwargs[key] = as_tensor(value)
        tensor_arguments = self._tensor_arguments(args, kwargs)
        if not self.built:
            self._build_for_call(tensor_arguments)
        self._check_built_shape(shape)
        previous_mask = get_mask(first)  # Keras: an explicit mask= is the call's business, not the output's
        self._fill_masks(tensor_arguments, kwargs)
        outputs = self._call_in_context(args, kwargs)
        if self.activity_regularizer is not None:
            for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs]):
                if isinstance(output, Tensor):
                    self.add_loss(self.activity_regularizer(output))
        # the default compute_mask passes previous_mask on: with none, there is no mask to attach
        if self.supports_masking and (previous_mask is not None or type(self).compute_mask is not Layer.compute_mask):
            self._set_output_masks(first, outputs, previous_mask)
        return outputs

    def _call_in_context(self, args, kwargs):
        """Run call(); the outermost call clears the losses, an unset ``training`` is inherited."""
        entry = getattr(_context, "entry", None) is None
        if entry:
            _context.entry, _context.training = self, None
            self._clear_losses()
        training = kwargs.pop("training", None)
        outer_training = _context.training
        if training is None:
            training = outer_training
        _context.training = training
        try:
            if _call_spec(type(self).call).training:
                kwargs["training"] = training
            return self.call(*args, **kwargs)
        finally:
            _context.training = outer_training
            if entry:
                _context.entry = None

    def _tensor_arguments(self, args, kwargs):
        """name -> value of each tensor argument of the call, positional first (Keras' CallSpec)."""
        names = _call_spec(type(self).call).positional
        found = {}
        for i, value in enumerate(args):
            if i == 0 or _is_array(value) or isinstance(value, (Tensor, KerasTensor)):
                found[names[i] if i < len(names) else f"arg_{i}"] = value
        for key, value in kwargs.items():
            if key != "training" and key != "mask" and type(value) not in _PLAIN and not key.endswith("_mask") and \
                    (_is_array(value) or isinstance(value, (Tensor, KerasTensor))):
                found[key] = value
        return found

    def _fill_masks(self, tensor_arguments, kwargs):
        """Pass attached masks as ``mask=`` (one tensor argument) or ``<argument>_mask=`` (several)."""
        call = type(self).call
        if len(tensor_arguments) == 1:
            if _call_spec(call).mask and kwargs.get("mask") is None:
                kwargs["mask"] = get_mask(next(iter(tensor_arguments.values())))
            return
        for name, value in tensor_arguments.items():
            key = f"{name}_mask"
            if kwargs.get(key) is None and accepts(call, key, keyword_only_too=False):
                kwargs[key] = get_mask(value)

    def _check_built_shape(self, shape):
        """The feature (last) axis the weights were built for must match the input's; other axes may vary,
        as Keras' input specs (``axes={-1: n}``) allow."""
        built = self._build_input_shape
        if built is None or isinstance(built, list) or isinstance(shape, list) or not built or not shape:
            return
        if built[-1] is not None and built[-1] != shape[-1]:
            expected = f"(batch, {built[-1]})" if len(built) == 2 else f"(batch, ..., {built[-1]})"
            raise ValueError(f"{self.describe()}: expected input of shape {expected}, got shape {tuple(shape)}")

    def _call_symbolic(self, *args, **kwargs):
        """Record a graph node: check and build from the shapes, infer the output shape(s) (node.py)."""
        return symbolic_call(self, args, kwargs, SelectOutput)

    # --- config ---------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SelectOutput(Layer):
    """Picks element ``index`` of a layer's list of outputs (a functional-graph node)."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def call(self, inputs, training=None):
        return inputs[self.index]

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@functools.lru_cache(maxsize=None)
def _parameters(function):
    return inspect.signature(function).parameters


class _CallSpec:
    """What ``__call__`` asks of a layer's ``call`` on every call, worked out once per function: its
    positional parameter names and whether it takes ``training`` and ``mask`` (the lru_cache'd ``accepts``
    with keyword arguments and the name list cost a few microseconds per layer call)."""

    __slots__ = ("positional", "training", "mask")

    def __init__(self, function):
        parameters = _parameters(function)
        self.positional = [n for n, p in parameters.items()
                           if n != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.training = accepts(function, "training")
        self.mask = accepts(function, "mask", keyword_only_too=False)


_call_specs: dict = {}  # call function -> _CallSpec


def _call_spec(function) -> _CallSpec:
    spec = _call_specs.get(function)
    if spec is None:
        spec = _call_specs[function] = _CallSpec(function)
    return spec


def _has_symbolic(values) -> bool:
    """Whether any value is a KerasTensor or a list, tuple or dict holding one (``is_symbolic`` on each)."""
    for value in values:
        if isinstance(value, KerasTensor) or (isinstance(value, (list, tuple, dict)) and is_symbolic(value)):
            return True
    return False


@functools.lru_cache(maxsize=None)
def accepts(function, name, keyword_only_too=True) -> bool:
    """Does ``function`` take argument ``name`` (or **kwargs, when keyword_only_too)?"""
    parameters = _parameters(function)
    return name in parameters or (keyword_only_too and any(p.kind == p.VAR_KEYWORD for p in parameters.values()))


def _is_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (Tensor, KerasTensor))


def _unique(*lists):
    """The items of the lists in order, each object once (by identity: arrays and Variables are unhashable)."""
    seen, found = set(), []
    for items in lists:
        for item in items:
            if id(item) not in seen:
                seen.add(id(item))
                found.append(item)
    return found
