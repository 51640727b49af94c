"""`python -m appstorage.build`: files, determinism, --check, formats, golden templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfn_flip import to_json as flip_to_json

from appstorage.build import main as build_main
from appstorage.build import render_files
from appstorage.config import load_config

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = sorted(
    f"{env}/{kind}.template.{fmt}"
    for env in ("dev", "staging", "prod")
    for kind in ("primary", "replica")
    for fmt in ("json", "yaml")
)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_template_and_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    assert build_main(["--out", str(tmp_path)]) == 0
    first = files_under(tmp_path)
    assert sorted(first) == EXPECTED
    assert build_main(["--out", str(tmp_path)]) == 0
    assert files_under(tmp_path) == first
    other = tmp_path / "again"
    assert build_main(["--out", str(other)]) == 0
    assert files_under(other) == first


def test_matches_the_golden_templates(tmp_path: Path) -> None:
    """Regenerate with: python -m appstorage.build --out tests/golden (and review the diff)."""
    assert build_main(["--out", str(tmp_path)]) == 0
    assert files_under(tmp_path) == files_under(GOLDEN)


@pytest.mark.parametrize("path", [p for p in EXPECTED if p.endswith(".yaml")])
def test_yaml_and_json_are_the_same_document(path: str) -> None:
    yaml_text = (GOLDEN / path).read_text(encoding="utf-8")
    json_text = (GOLDEN / path.replace(".yaml", ".json")).read_text(encoding="utf-8")
    assert json.loads(flip_to_json(yaml_text)) == json.loads(json_text)


def test_env_and_format_options(tmp_path: Path) -> None:
    assert build_main(["--out", str(tmp_path), "--env", "prod", "--format", "yaml"]) == 0
    assert sorted(files_under(tmp_path)) == ["prod/primary.template.yaml", "prod/replica.template.yaml"]
    files = render_files(load_config(), ["dev", "prod"], "json")
    assert sorted(str(p) for p in files) == sorted(
        f"{e}/{k}.template.json" for e in ("dev", "prod") for k in ("primary", "replica")
    )


def test_check_detects_drift_and_passes_when_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build_main(["--out", str(tmp_path), "--check"]) == 1  # nothing built yet
    assert build_main(["--out", str(tmp_path)]) == 0
    assert build_main(["--out", str(tmp_path), "--check"]) == 0
    target = tmp_path / "prod" / "primary.template.json"
    target.write_text(target.read_text(encoding="utf-8").replace("PAY_PER_REQUEST", "PROVISIONED"), "utf-8")
    capsys.readouterr()
    assert build_main(["--out", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "prod/primary.template.json" in err and "1 of 12" in err
    assert "PROVISIONED" in target.read_text(encoding="utf-8"), "--check writes nothing"


def test_runs_as_a_module_and_console_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "appstorage.build", "--out", str(tmp_path), "--env", "dev"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "built 1 environment(s), 4 file(s)" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("project: Bad Name\nenvironments: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "appstorage.build", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "project: project 'Bad Name' is not a valid name" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_cache_gives_exactly_cfn_flips_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPSTORAGE_CACHE_DIR", str(tmp_path / "cache"))
    assert build_main(["--out", str(tmp_path / "cold")]) == 0  # fills the cache
    assert len(list((tmp_path / "cache" / "yaml").rglob("*.yaml"))) == 6
    assert build_main(["--out", str(tmp_path / "warm")]) == 0  # served from the cache
    assert build_main(["--out", str(tmp_path / "none"), "--no-cache"]) == 0
    assert files_under(tmp_path / "warm") == files_under(tmp_path / "none") == files_under(GOLDEN)


def test_unusable_cache_directory_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("APPSTORAGE_CACHE_DIR", str(blocker))
    assert build_main(["--out", str(tmp_path / "out")]) == 0
    assert files_under(tmp_path / "out") == files_under(GOLDEN)


def test_unwritable_output_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert build_main(["--out", str(blocker), "--env", "dev"]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {blocker}/dev/" in err and "choose another --out" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_deployer_sends_the_same_template_compact_and_under_the_body_limit(env: str) -> None:
    """The deployer sends compact JSON: the same document as the golden file, and every bundled
    template fits CloudFormation's 51,200-byte TemplateBody without a staging bucket (the indented
    prod primary template would not)."""
    from stacksets.desired import desired_stack_sets
    from stacksets.preflight import TEMPLATE_BODY_LIMIT, template_size

    for desired in desired_stack_sets(load_config(), env):
        golden = (GOLDEN / env / f"{desired.kind}.template.json").read_text(encoding="utf-8")
        assert json.loads(desired.template_body) == json.loads(golden)
        assert template_size(desired) < TEMPLATE_BODY_LIMIT
        assert "\n" not in desired.template_body
