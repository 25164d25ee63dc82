"""What ``compile`` sets up: one loss (and weight) per output, metrics per output, trackers.

Logs follow Keras: ``loss`` and metric names for one output; with several
outputs also ``<output>_loss`` and ``<output>_<metric>``.
"""
from __future__ import annotations

from .. import losses as losses_module
from .. import metrics as metrics_module
from ..autograd import arithmetic as A
from ..metrics import Mean


def per_output(who, value, names, default=None):
    """Align a compile argument with the outputs: one value, a list (one each) or a dict by output name."""
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{who}: keys {sorted(unknown)} are not output names {names}")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"{who}: expected {len(names)} entries (one per output {names}), got {len(value)}")
        return list(value)
    return [value] * len(names)


class CompiledObjectives:
    """Losses, loss weights and metrics of a compiled model, aligned with its outputs."""

    def __init__(self, model_name, output_names, loss, loss_weights=None, metrics=None):
        who = f"Model '{model_name}'.compile"
        self.output_names = list(output_names)
        multi = len(self.output_names) > 1
        self.losses = [None if l is None else losses_module.get(l) for l in per_output(who, loss, output_names)]
        self.model_name = model_name  # without a loss, the model's add_loss terms are the loss (Keras)
        self.loss_weights = [1.0 if w is None else float(w)
                             for w in per_output(who + " loss_weights", loss_weights, output_names, 1.0)]
        if metrics is not None and not multi and isinstance(metrics, (str, metrics_module.Metric)):
            raise TypeError(f"{who}: metrics must be a list, e.g. metrics=['accuracy'], got {metrics!r}")
        if isinstance(metrics, (list, tuple)) and multi and not any(isinstance(m, (list, tuple)) for m in metrics):
            metrics = [metrics] * len(self.output_names)  # a flat list applies to every output
        grouped = [m or [] for m in per_output(who + " metrics", metrics, output_names)] if multi else [metrics or []]
        self.metrics = []  # (output index, Metric)
        for index, (group, loss) in enumerate(zip(grouped, self.losses)):
            for identifier in ([group] if isinstance(group, (str, metrics_module.Metric)) else group or []):
                metric = metrics_module.get(identifier, loss)
                if isinstance(identifier, str) and identifier.islower():
                    metric.name = identifier  # Keras logs a metric given by name under that name ('mae')
                if multi:
                    metric.name = f"{self.output_names[index]}_{metric.name}"
                self.metrics.append((index, metric))
        self.loss_tracker = Mean("loss")
        self.output_loss_trackers = [Mean(f"{n}_loss") for n in self.output_names] if multi else []

    def total_loss(self, y, y_pred, sample_weight, extra_losses):
        """Weighted sum of the per-output losses plus regularization; tracks the per-output values."""
        ys, preds = _as_list(y, self.output_names), _as_list(y_pred, self.output_names)
        weights = _as_list(sample_weight, self.output_names) if isinstance(sample_weight, (list, dict)) \
            else [sample_weight] * len(self.output_names)
        total, batch = None, len(preds[0])
        for i, (loss, weight) in enumerate(zip(self.losses, self.loss_weights)):
            if loss is None:
                continue
            value = loss(ys[i], preds[i], weights[i])
            if self.output_loss_trackers:
                self.output_loss_trackers[i].update_state(value.data, count=batch)
            value = value if weight == 1.0 else A.mul(value, weight)
            total = value if total is None else A.add(total, value)
        for penalty in extra_losses:
            total = penalty if total is None else A.add(total, penalty)
        if total is None:
            raise ValueError(f"Model '{self.model_name}': no loss to compute; pass loss= to compile() or add "
                             f"terms with add_loss() in the model")
        return total

    def update_metrics(self, y, y_pred, sample_weight, loss, batch):
        ys, preds = _as_list(y, self.output_names), _as_list(y_pred, self.output_names)
        self.loss_tracker.update_state(loss, count=batch)
        for index, metric in self.metrics:
            weight = None if isinstance(sample_weight, (list, dict)) else sample_weight
            mask = getattr(preds[index], "_keras_mask", None)
            if mask is not None:  # Keras: a masked output's metrics count its unmasked steps only
                weight = mask if weight is None else mask * weight.reshape(weight.shape[:1] + (1,) * (mask.ndim - 1))
            metric.update_state(ys[index], preds[index].data if hasattr(preds[index], "data") else preds[index],
                                weight)

    def all_metrics(self):
        return [self.loss_tracker] + self.output_loss_trackers + [m for _, m in self.metrics]

    def reset(self):
        for metric in self.all_metrics():
            metric.reset_state()

    def results(self):
        """The one host sync: every tracked value as a Python float."""
        return {metric.name: metric.result() for metric in self.all_metrics()}

    def get_config(self):
        return {"loss": [getattr(l, "name", None) for l in self.losses], "loss_weights": self.loss_weights}


def _as_list(values, names):
    """Per-output values in output order, from one value, a list or a dict by output name."""
    if isinstance(values, dict):
        return [values.get(name) for name in names]
    if isinstance(values, (list, tuple)) and len(names) > 1:
        return list(values)
    return [values]
