"""stacksets: roll the appstorage templates out as CloudFormation StackSet instances.

Pure (no boto3): ``model`` (plain data), ``desired`` (config -> DesiredStackSet), ``diff`` (template
diff and data loss), ``plan`` (desired vs observed -> StackSetPlan), ``preflight`` (checks before
any call), ``requests`` (the StackSet API requests), ``errors``.

Effects: ``session`` (boto3 clients), ``observe`` (CloudFormation -> ObservedStackSet),
``operations`` (start and wait for StackSet operations), ``stacks`` (an instance's own stack),
``staging`` (large templates through S3), ``outputs``, ``rollout`` (the deploy), ``retained``
(what an earlier destroy left in the way), ``drift``, ``destroy``, ``drcheck`` (the live
disaster-recovery state); ``awserrors`` (what an AWS error means), ``progress`` (reporting),
``compat`` (where the endpoint departs from AWS), ``toolkit`` (wiring for one environment),
``local`` (the embedded emulator) with ``emulator`` (what it adds to moto), and ``cli``
(``appstorage-deploy``). Importing the package imports none of them, so the pure planner can be
used without boto3.
"""

__all__ = [
    "awserrors",
    "cli",
    "compat",
    "desired",
    "destroy",
    "diff",
    "drcheck",
    "drift",
    "emulator",
    "errors",
    "local",
    "model",
    "observe",
    "operations",
    "outputs",
    "plan",
    "preflight",
    "progress",
    "requests",
    "retained",
    "rollout",
    "session",
    "stacks",
    "staging",
    "toolkit",
]
