"""Light imports: application code that only builds keys does not load the template stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

import appstorage

#: Top-level packages only the templates, the YAML reader or the deployer need.
HEAVY = {"troposphere", "awacs", "boto3", "botocore", "yaml", "cfnlint", "cfn_flip", "rich", "attrs"}


def loaded_after(statement: str) -> list[str]:
    """``sorted(sys.modules)`` of a fresh interpreter after ``statement``."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.split()


@pytest.mark.parametrize(
    ("statement", "module"),
    [
        ("import appstorage.keys", "appstorage.keys"),
        ("from appstorage import keys", "appstorage.keys"),
        ("import appstorage", "appstorage"),
    ],
)
def test_the_keys_load_neither_troposphere_awacs_boto3_nor_yaml(statement: str, module: str) -> None:
    modules = loaded_after(statement)
    assert module in modules
    assert sorted({m.split(".")[0] for m in modules} & HEAVY) == []


def test_the_check_sees_a_heavy_import() -> None:
    """The gate can fail: asking for a builder loads troposphere."""
    modules = loaded_after("from appstorage import hardened_bucket")
    assert "troposphere" in modules and "appstorage.buckets" in modules


def test_every_public_name_resolves_lazily() -> None:
    for name in appstorage.__all__:
        assert getattr(appstorage, name) is not None, name
    assert set(appstorage.__all__) <= set(dir(appstorage))
    assert appstorage.__version__ == "0.1.0"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        appstorage.nope  # noqa: B018
