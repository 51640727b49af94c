"""The README's exit code table is the code's: its codes are the constants of
stacksets/cli/context.py, every row of the failure table (stacksets/cli/failures.py) is listed
under its code by what it says, and the table lists nothing else but what the commands return
themselves."""

from __future__ import annotations

from pathlib import Path

from stacksets.cli import EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from stacksets.cli.failures import FAILURES

README = Path(__file__).resolve().parent.parent / "README.md"

#: What the commands return themselves (not an exception), as the table says it.
RETURNED = {
    "the command did what it says (`plan`: also with changes, unless `--detailed-exitcode`)": EXIT_OK,
    "instances failed within the failure tolerance": EXIT_FAILED,  # deploy
    "drift found, not checkable, or a stack set missing": EXIT_FAILED,  # drift
    "dr-check not ready": EXIT_FAILED,
    "outputs not readable": EXIT_FAILED,
    "destroy kept something": EXIT_FAILED,
}
DETAILED = "`plan --detailed-exitcode`: the plan has changes"


def exit_code_rows() -> list[tuple[int, str, str]]:
    """(code, meaning, when) of every row of the README's exit code table."""
    section = README.read_text(encoding="utf-8").split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| code")]
    out = []
    for line in rows:
        code, meaning, when = (cell.strip() for cell in line.strip("|").split(" | "))
        out.append((int(code), meaning, when))
    return out


def test_the_codes_are_the_constants() -> None:
    codes = {code for code, _, _ in exit_code_rows()}
    assert codes == {EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_INTERRUPTED}
    assert (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_INTERRUPTED) == (0, 1, 2, 2, 130)
    meanings = {meaning: code for code, meaning, _ in exit_code_rows()}
    assert meanings[DETAILED] == EXIT_CHANGES
    assert meanings["bad input, before any API call"] == EXIT_BAD_INPUT


def test_every_failure_row_is_listed_under_its_code_and_nothing_else() -> None:
    listed: dict[str, int] = {}
    for code, meaning, when in exit_code_rows():
        if meaning == DETAILED:
            assert "every error, bad input included, exits 1" in when
            continue
        for phrase in when.split("; "):
            listed[phrase] = code
    summaries = {row.summary: row.code for row in FAILURES.values()}
    interrupted = summaries.pop("interrupted (Ctrl-C)")
    assert interrupted == EXIT_INTERRUPTED
    assert listed.pop("interrupted (Ctrl-C)") == EXIT_INTERRUPTED
    assert listed.pop("operations already started keep running: run the command again") == EXIT_INTERRUPTED
    assert listed == {**summaries, **RETURNED}
