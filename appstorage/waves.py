"""Staged rollouts (``deployment.waves``): what a wave is, which accounts each wave takes, and the
rules the reader applies to a list of waves. :mod:`appstorage.deployment` holds them in
:class:`~appstorage.deployment.Deployment`; the deployer runs them (:mod:`stacksets.staged`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import validators as v
from .errors import Problems
from .reader import Reader, kind_of

__all__ = ["Wave", "read_waves", "resolve_waves", "wave_rules"]


@dataclass(frozen=True)
class Wave:
    """One wave of a staged rollout (``deployment.waves``): the ``accounts`` listed, a ``percent``
    of the target accounts no earlier wave took (rounded up, at least one, in the order of
    ``deployment.accounts``), or the ``rest``. Exactly one of the three."""

    accounts: tuple[str, ...] = ()
    percent: int | None = None
    rest: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", tuple(self.accounts))
        problems = Problems()
        for i, account in enumerate(self.accounts):
            problems.add(f"accounts[{i}]", v.check_account_id(account))
        if self.percent is not None:
            problems.add("percent", v.check_whole_number(self.percent, 1, 100))
        given = [
            key
            for key, on in (
                ("accounts", bool(self.accounts)),
                ("percent", self.percent is not None),
                ("rest", self.rest),
            )
            if on
        ]
        if len(given) != 1:
            problems.add(
                "",
                (
                    "a wave takes listed accounts, a percent or the rest; "
                    f"{' and '.join(given) or 'none'} given",
                    'write one of {accounts: ["111111111111"]}, {percent: 10} or {rest: true}',
                ),
            )
        problems.raise_for(self)


def resolve_waves(accounts: Sequence[str], waves: Sequence[Wave]) -> tuple[tuple[str, ...], ...]:
    """The accounts of each of ``waves``, in order, out of the target ``accounts`` (see
    :class:`Wave`). Deterministic: the same configuration gives the same waves."""
    remaining = list(accounts)
    out: list[tuple[str, ...]] = []
    for wave in waves:
        if wave.accounts:
            taken = [a for a in wave.accounts if a in remaining]
        elif wave.percent is not None:
            taken = remaining[: max(1, -(-len(remaining) * wave.percent // 100))] if remaining else []
        else:
            taken = list(remaining)
        remaining = [a for a in remaining if a not in taken]
        out.append(tuple(taken))
    return tuple(out)


# --------------------------------------------------------------------------- reading


def read_waves(r: Reader, raw: Any) -> tuple[Wave, ...] | None:
    """The ``waves`` list (None when absent or not valid: its problems are recorded)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        r.error(
            r.field(),
            f"expected a list of waves, got {kind_of(raw) if raw != [] else 'an empty list'}",
            'write a list such as [{accounts: ["111111111111"]}, {percent: 10}, {rest: true}], '
            "or remove waves",
        )
        return None
    out: list[Wave] = []
    for i, item in enumerate(raw):
        with r.at(f"[{i}]"):
            d = r.mapping(item, ("accounts", "percent", "rest"))
            kwargs: dict[str, Any] = {}
            if (accounts := r.strings(d, "accounts")) is not None:
                kwargs["accounts"] = accounts
            if (percent := r.typed(d, "percent", int)) is not None:
                kwargs["percent"] = percent
            if (rest := r.typed(d, "rest", bool)) is not None:
                kwargs["rest"] = rest
            wave = r.construct(Wave, kwargs)
            if wave is not None:
                out.append(wave)
    return tuple(out) if len(out) == len(raw) else None


def wave_rules(r: Reader, permission_model: str, accounts: Sequence[str], waves: Sequence[Wave]) -> None:
    """Waves a deploy can run: of the target ``accounts``, each account in one wave, every account
    in some wave, no wave left without accounts, ``rest`` last; SELF_MANAGED only."""
    if permission_model == "SERVICE_MANAGED":
        r.error(
            r.field(),
            "waves take accounts of deployment.accounts, and SERVICE_MANAGED stack sets deploy to the "
            "accounts of their OUs",
            "remove waves and roll out part of the OUs' accounts with deploy --accounts A,B (an "
            "INTERSECTION filter on the OUs), or use SELF_MANAGED with accounts",
        )
        return
    seen: dict[str, int] = {}
    for i, wave in enumerate(waves):
        if wave.rest and i != len(waves) - 1:
            r.error(
                r.field(f"[{i}].rest"), "only the last wave can take the rest", "move {rest: true} to the end"
            )
        for j, account in enumerate(wave.accounts):
            where = r.field(f"[{i}].accounts[{j}]")
            if account not in accounts:
                r.error(
                    where,
                    f"{account} is not a target account",
                    "add it to deployment.accounts or remove it here",
                )
            elif account in seen:
                r.error(
                    where, f"{account} is already in waves[{seen[account]}]", "list each account in one wave"
                )
            else:
                seen[account] = i
    resolved = resolve_waves(accounts, waves)
    for i, taken in enumerate(resolved):
        if not taken and not waves[i].accounts:
            r.error(
                r.field(f"[{i}]"),
                f"no account is left for this wave: the waves before it take all {len(accounts)}",
                "remove this wave",
            )
    missed = [a for a in accounts if not any(a in taken for taken in resolved)]
    if missed:
        r.error(
            r.field(),
            f"{len(missed)} target account(s) are in no wave ({', '.join(missed[:5])}"
            f"{', ...' if len(missed) > 5 else ''}), so deploy would never update them",
            "end the waves with {rest: true}",
        )
