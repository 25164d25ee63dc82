"""Turning benchmark records into a terminal table, a JSON file and a bar chart."""
from __future__ import annotations

import json

from ..files import atomic_write

NOISY_MARK = "*"


def _format_rate(record) -> str:
    if record is None:
        return "-"
    if record["status"] != "ok":
        return record["status"]
    value = record["images_per_second"]["median"]
    return f"{value:,.0f}{NOISY_MARK if record['noisy'] else ''}"


def _ratio(numerator, denominator) -> str:
    if not (numerator and denominator and numerator["status"] == denominator["status"] == "ok"):
        return "-"
    return f"{numerator['images_per_second']['median'] / denominator['images_per_second']['median']:.2f}x"


def models_rows(records: list[dict]) -> tuple[list[str], list[list[str]]]:
    """One row per (workload, mode): img/s per framework and device, then the speed-up ratios."""
    index = {(r["workload"], r["mode"], r["framework"], r["device"]): r for r in records}
    devices = [d for d in ("cpu", "gpu") if any(r["device"] == d for r in records)]
    frameworks = [f for f in ("deepcore", "torch") if any(r["framework"] == f for r in records)]
    columns = [(f, d) for f in frameworks for d in devices]
    header = ["workload", "mode", "batch"] + [f"{f} {d} img/s" for f, d in columns]
    if "torch" in frameworks:
        header += [f"deepcore/torch {d}" for d in devices]
    if "gpu" in devices and "cpu" in devices:
        header += ["deepcore gpu/cpu"]
    rows = []
    for workload, mode in dict.fromkeys((r["workload"], r["mode"]) for r in records):
        get = lambda f, d: index.get((workload, mode, f, d))
        batch = next(r["batch_size"] for r in records if r["workload"] == workload)
        row = [workload, mode, str(batch)] + [_format_rate(get(f, d)) for f, d in columns]
        if "torch" in frameworks:
            row += [_ratio(get("deepcore", d), get("torch", d)) for d in devices]
        if "gpu" in devices and "cpu" in devices:
            row += [_ratio(get("deepcore", "gpu"), get("deepcore", "cpu"))]
        rows.append(row)
    return header, rows


def ops_rows(records: list[dict]) -> tuple[list[str], list[list[str]]]:
    header = ["op", "case", "device", "path", "ms/call", "min-max ms", "rate", "% of peak"]
    rows = []
    for r in records:
        seconds = r["seconds_per_call"]
        noisy = NOISY_MARK if r["noisy"] else ""
        rows.append([r["op"], r["case"], r["device"], r["path"], f"{seconds['median'] * 1e3:.3f}{noisy}",
                     f"{seconds['min'] * 1e3:.3f}-{seconds['max'] * 1e3:.3f}",
                     f"{r['rate']['median']:.1f} {r['unit']}", f"{100 * r['fraction_of_peak']:.1f}%"])
    return header, rows


def format_table(header: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def messages(records: list[dict]) -> list[str]:
    """Distinct skip and error messages, one line each."""
    seen = {}
    for r in records:
        if r["status"] != "ok":
            key = f"{r['status']}: {r['framework']} on {r['device']}" + (
                "" if r["status"] == "skipped" else f" ({r['workload']})")
            seen.setdefault(f"{key}: {r['message']}", None)
    return list(seen)


def write_json(path, document: dict) -> None:
    """Write atomically (a temporary file renamed into place): an interrupted run leaves no half file."""
    def write(temporary):
        with open(temporary, "w") as out:
            json.dump(document, out, indent=2, default=str)
            out.write("\n")

    atomic_write(path, write)


def summary_rows(records: list[dict], device_name: str) -> tuple[list[str], list[list[str]]]:
    """One row per workload on one device: deepcore and torch img/s and deepcore/torch, per mode (the README)."""
    index = {(r["workload"], r["mode"], r["framework"]): r for r in records if r["device"] == device_name}
    modes = [m for m in ("train", "inference") if any(key[1] == m for key in index)]
    header = ["workload", "batch"]
    for mode in modes:
        header += [f"{mode} deepcore img/s", f"{mode} torch img/s", f"{mode} deepcore/torch"]
    rows = []
    for workload in dict.fromkeys(key[0] for key in index):
        batch = next(r["batch_size"] for key, r in index.items() if key[0] == workload)
        row = [workload, str(batch)]
        for mode in modes:
            deepcore, torch = index.get((workload, mode, "deepcore")), index.get((workload, mode, "torch"))
            row += [_format_rate(deepcore), _format_rate(torch), _ratio(deepcore, torch)]
        rows.append(row)
    return header, rows


def describe_run(document: dict) -> str:
    """One line naming where and when a result was measured: CPU (and GPU), threads, commit, date."""
    machine, threads = document["machine"], document["threads"]
    count = threads["requested"] or threads["numba"]
    where = ", ".join(filter(None, [machine["cpu_model"], f"{count} threads", machine["gpu"]]))
    commit = document["git_commit"][:7] + (" + local changes" if document["git_uncommitted"] else "")
    return f"{where}; commit {commit}, {document['timestamp'][:10]}"


def _pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise RuntimeError("--plot needs matplotlib (pip install 'deepcore[plot]')") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# deepcore blue, torch orange; the GPU bar of each is darker and hatched, so the chart reads in grey too.
SERIES_STYLE = {("deepcore", "cpu"): ("#4c8bd6", None), ("torch", "cpu"): ("#f0a04b", None),
                ("deepcore", "gpu"): ("#1b4f8f", "//"), ("torch", "gpu"): ("#b35a00", "//")}
MODE_TITLES = {"train": "training step (forward, loss, backward, SGD update)", "inference": "inference (forward)"}


def plot_models(document: dict, path) -> None:
    """A PNG with one panel per mode: images/s per workload, a bar per framework and device, deepcore/torch
    written over each pair. Log scale when the rates span more than 20x (MLP and ResNet-20 differ ~1000x)."""
    plt = _pyplot()
    from matplotlib.ticker import EngFormatter, NullFormatter

    records = document["results"]
    index = {(r["workload"], r["mode"], r["framework"], r["device"]): r for r in records}
    batches = {r["workload"]: r["batch_size"] for r in records}
    workloads = list(batches)
    modes = [m for m in MODE_TITLES if any(r["mode"] == m for r in records)]
    series = [key for key in SERIES_STYLE
              if any(r["status"] == "ok" and (r["framework"], r["device"]) == key for r in records)]
    rate = lambda r: r["images_per_second"]["median"] if r and r["status"] == "ok" else float("nan")
    rates = [rate(r) for r in records if r["status"] == "ok"]
    logarithmic = bool(rates) and max(rates) > 20 * min(rates)
    width = 0.8 / max(len(series), 1)
    figure, panels = plt.subplots(len(modes), 1, figsize=(max(6.0, 1.0 + 0.4 * len(series) * len(workloads)),
                                                           0.8 + 3.4 * len(modes)), squeeze=False, layout="constrained")
    for axes, mode in zip(panels[:, 0], modes):
        offset = lambda i: (i - (len(series) - 1) / 2) * width
        for i, (framework, device_name) in enumerate(series):
            color, hatch = SERIES_STYLE[framework, device_name]
            axes.bar([j + offset(i) for j in range(len(workloads))],
                     [rate(index.get((w, mode, framework, device_name))) for w in workloads], width,
                     color=color, hatch=hatch, edgecolor="white", label=f"{framework} {device_name.upper()}")
        if logarithmic:
            axes.set_yscale("log")
            axes.set_ylim(min(rates) / 1.5, max(rates) * 3)
        else:
            axes.set_ylim(0, max(rates, default=1) * 1.2)
        for j, workload in enumerate(workloads):
            for i, (framework, device_name) in enumerate(series):
                record = index.get((workload, mode, framework, device_name))
                if record and record["status"] != "ok":
                    axes.text(j + offset(i), axes.get_ylim()[0], f" {record['status']}", rotation=90,
                              ha="center", va="bottom", fontsize=7)
                if framework == "deepcore" and ("torch", device_name) in series:
                    pair = (rate(record), rate(index.get((workload, mode, "torch", device_name))))
                    if pair[0] == pair[0] and pair[1] == pair[1]:  # both measured (not NaN)
                        axes.text(j + offset(i) + width / 2, max(pair) * (1.08 if logarithmic else 1.02),
                                  f"{pair[0] / pair[1]:.2f}x", ha="center", va="bottom", fontsize=8,
                                  fontweight="bold" if pair[0] >= pair[1] else "normal")
        axes.set_title(MODE_TITLES[mode], fontsize=10)
        axes.set_xticks(range(len(workloads)), [f"{w}\nbatch {batches[w]}" for w in workloads])
        axes.set_xlim(-0.5, len(workloads) - 0.5)  # a workload with no measured bar keeps its slot
        axes.set_ylabel("images / s (median)")
        axes.yaxis.set_major_formatter(EngFormatter(sep=""))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
    if series:
        figure.legend(*panels[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=len(series),
                      fontsize=8, frameon=False)
    figure.suptitle(f"deepcore vs PyTorch throughput (x: deepcore / torch, bold when deepcore is faster)\n"
                    f"{describe_run(document)}", fontsize=9)
    _save(plt, figure, path)


def plot_ops(document: dict, path) -> None:
    """A PNG of horizontal bars: each kernel's fraction of the device's measured peak, rate written beside it."""
    plt = _pyplot()
    records = document["results"]
    cases = list(dict.fromkeys((r["op"], r["case"]) for r in records))
    devices = list(dict.fromkeys(r["device"] for r in records))
    index = {(r["op"], r["case"], r["device"]): r for r in records}
    height = 0.8 / max(len(devices), 1)
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.3 * len(cases) * len(devices)), layout="constrained")
    for i, device_name in enumerate(devices):
        color, hatch = SERIES_STYLE["deepcore", device_name]
        for j, key in enumerate(cases):
            record = index.get((*key, device_name))
            if record is None:
                continue
            y, percent = j + (i - (len(devices) - 1) / 2) * height, 100 * record["fraction_of_peak"]
            axes.barh(y, percent, height, color=color, hatch=hatch, edgecolor="white",
                      label=device_name.upper() if j == 0 else None)
            axes.text(percent, y, f" {record['rate']['median']:,.1f} {record['unit']} ({record['path']})",
                      va="center", fontsize=7)
    axes.axvline(100, color="grey", linestyle="--", linewidth=0.8)
    axes.set_yticks(range(len(cases)), [f"{op}  {case}" for op, case in cases], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, max([100] + [100 * r["fraction_of_peak"] for r in records]) * 1.35)
    axes.set_xlabel("% of the measured peak (convolutions: float32 GEMM; other ops: a large copy)")
    if len(devices) > 1:
        axes.legend(fontsize=8)
    axes.set_title(f"deepcore kernels\n{describe_run(document)}", fontsize=9)
    _save(plt, figure, path)


def _save(plt, figure, path) -> None:
    atomic_write(path, lambda temporary: figure.savefig(temporary, dpi=110, format="png"))
    plt.close(figure)
