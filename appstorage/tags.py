"""Resource tags: project, environment, module and managed-by, plus configured ones."""

from __future__ import annotations

from troposphere import Tags

from .model import Config, Environment
from .naming import MODULE

__all__ = ["standard_tags", "tags"]


def standard_tags(config: Config, env: Environment) -> dict[str, str]:
    """The tag set of every resource; configured tags never override the standard four."""
    merged = {**config.tags, **env.tags}
    merged.update(
        {"project": config.project, "environment": env.name, "module": MODULE, "managed-by": "appstorage"}
    )
    return dict(sorted(merged.items()))


def tags(config: Config, env: Environment) -> Tags:
    return Tags(**standard_tags(config, env))
