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


def plot_models(records: list[dict], path) -> None:
    """Grouped bars: training images/s per workload, one bar per framework and device (log scale)."""
    try:
        import matplotlib
    except ImportError as error:
        raise RuntimeError("--plot needs matplotlib (pip install 'deepcore[plot]')") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in records if r["status"] == "ok"]
    workloads = list(dict.fromkeys(r["workload"] for r in records))
    series = list(dict.fromkeys((r["framework"], r["device"], r["mode"]) for r in ok))
    width = 0.8 / max(len(series), 1)
    figure, axes = plt.subplots(figsize=(max(6, 1.8 * len(workloads)), 4.5))
    for i, (framework, device_name, mode) in enumerate(series):
        values = []
        for workload in workloads:
            match = [r for r in ok if (r["workload"], r["framework"], r["device"], r["mode"])
                     == (workload, framework, device_name, mode)]
            values.append(match[0]["images_per_second"]["median"] if match else float("nan"))
        axes.bar([j + i * width for j in range(len(workloads))], values, width,
                 label=f"{framework} {device_name} {mode}")
    axes.set_xticks([j + 0.4 - width / 2 for j in range(len(workloads))], workloads)
    axes.set_yscale("log")
    axes.set_ylabel("images / second (median)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    atomic_write(path, lambda temporary: figure.savefig(temporary, dpi=120, format="png"))
    plt.close(figure)
