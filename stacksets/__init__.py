"""stacksets: roll the appstorage templates out as CloudFormation StackSet instances.

``desired`` (config -> DesiredStackSet), ``observe`` (CloudFormation -> ObservedStackSet),
``plan``/``diff`` (pure comparison), ``preflight`` (checks before any call), ``execute``
(the rollout), ``retained`` (what an earlier destroy left in the way), ``drift``,
``drcheck`` (the live disaster-recovery state) and ``destroy``, ``session`` (boto3 clients),
``local`` (the embedded emulator) with ``emulator`` (what it adds to moto) and ``cli``
(``appstorage-deploy``). Importing the package imports none of them, so the pure planner can
be used without boto3.
"""

__all__ = [
    "cli",
    "desired",
    "destroy",
    "diff",
    "drcheck",
    "drift",
    "emulator",
    "execute",
    "local",
    "model",
    "observe",
    "plan",
    "preflight",
    "retained",
    "session",
]
