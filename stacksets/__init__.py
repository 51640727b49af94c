"""stacksets: roll the appstorage templates out as CloudFormation StackSet instances.

``desired`` (config -> DesiredStackSet), ``observe`` (CloudFormation -> ObservedStackSet),
``plan``/``diff`` (pure comparison), ``execute`` (the rollout), ``session`` (boto3 clients),
``local`` (the embedded emulator) and ``cli`` (``appstorage-deploy``).
"""

__all__ = ["cli", "desired", "diff", "execute", "local", "model", "observe", "plan", "session"]
