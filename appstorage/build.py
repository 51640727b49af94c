"""``python -m appstorage.build``: render every environment's templates to files.

Writes ``OUT/<env>/primary.template.json|yaml`` and ``replica.template.json|yaml``.
Output is byte-identical on re-run. ``--check`` writes nothing and exits 1 when the files
on disk differ from a fresh build. Exit 2 on bad configuration or arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Config, ConfigError, load_config
from .installed import installed_elsewhere
from .render import YamlCache, default_cache_dir, to_json, yaml_from_json
from .templates import build_environment

__all__ = ["main", "render_files"]

#: 1: --check found stale files, or the output could not be written.
EXIT_OK, EXIT_DIFFERS, EXIT_BAD_INPUT = 0, 1, 2


def render_files(
    config: Config, envs: Sequence[str], fmt: str, *, cache: YamlCache | None = None
) -> dict[Path, str]:
    """Relative path -> file content for every requested environment and format."""
    to_yaml = cache.yaml_from_json if cache is not None else yaml_from_json
    files: dict[Path, str] = {}
    for name in envs:
        for kind, template in build_environment(config, name).items():
            json_text = to_json(template)
            base = Path(name) / f"{kind}.template"
            if fmt in ("json", "both"):
                files[base.with_suffix(".template.json")] = json_text
            if fmt in ("yaml", "both"):
                files[base.with_suffix(".template.yaml")] = to_yaml(json_text)
    return files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m appstorage.build",
        description="Render the storage module's CloudFormation templates from a YAML configuration.",
    )
    parser.add_argument("--config", type=Path, help="configuration file (default: the bundled example)")
    parser.add_argument(
        "--env", action="extend", nargs="+", metavar="E", help="environment(s) to build (default: all)"
    )
    parser.add_argument("--out", type=Path, default=Path("build"), help="output directory (default: build)")
    parser.add_argument(
        "--format", choices=("json", "yaml", "both"), default="both", help="output format (default: both)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="do not use the YAML cache ($APPSTORAGE_CACHE_DIR, default ~/.cache/appstorage)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files on disk differ from a fresh build",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    elsewhere = installed_elsewhere()
    if elsewhere is not None:
        print(
            f"note: this build runs {Path(__file__).parent}, not the installed package that "
            f"appstorage-deploy runs ({elsewhere}): use appstorage-build, or pip install -e .",
            file=sys.stderr,
        )
    try:
        config = load_config(args.config)
        envs = list(dict.fromkeys(args.env or config.environments))
        for name in envs:
            config.environment(name)
    except ConfigError as exc:
        print(f"error: invalid configuration\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    cache = None if args.no_cache or args.format == "json" else YamlCache(default_cache_dir())
    files = render_files(config, envs, args.format, cache=cache)
    out: Path = args.out
    if args.check:
        stale = [p for p, text in files.items() if _read(out / p) != text]
        for path in stale:
            print(f"differs: {out / path}", file=sys.stderr)
        if stale:
            print(
                f"{len(stale)} of {len(files)} file(s) differ from a fresh build; "
                f"run: python -m appstorage.build --out {out}",
                file=sys.stderr,
            )
            return EXIT_DIFFERS
        print(f"{len(files)} file(s) up to date in {out}")
        return EXIT_OK
    written = 0
    for path, text in files.items():
        target = out / path
        if _read(target) == text:
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(
                f"error: cannot write {target}: {exc.strerror or exc}; choose another --out", file=sys.stderr
            )
            return EXIT_DIFFERS
        written += 1
    print(f"built {len(envs)} environment(s), {len(files)} file(s) in {out} ({written} changed)")
    return EXIT_OK


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
