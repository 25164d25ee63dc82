"""docs/keras_ops.md matches dc.ops (regenerate with python scripts/keras_ops_table.py)."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_keras_ops_table_is_up_to_date():
    spec = importlib.util.spec_from_file_location("keras_ops_table", ROOT / "scripts" / "keras_ops_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    assert table.main(["--check"]) == 0, "docs/keras_ops.md is stale: run python scripts/keras_ops_table.py"
    for namespace in table.KERAS_OPS:  # every name listed once, so the counts mean something
        names = table.keras_names(namespace)
        assert len(names) == len(set(names)), namespace
