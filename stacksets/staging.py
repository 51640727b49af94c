"""Where a stack set's template comes from: ``TemplateBody``, or for a template over the limit
``TemplateURL`` of a content-addressed copy in the configured S3 bucket (uploaded once)."""

from __future__ import annotations

import hashlib

from botocore.exceptions import ClientError

from .awserrors import error_code
from .errors import PreflightError
from .model import DesiredStackSet
from .preflight import TEMPLATE_BODY_LIMIT, template_size
from .progress import NullReporter, Reporter
from .session import ClientFactory, url_suffix

__all__ = ["TemplateStager", "staged_key", "template_url"]


def staged_key(desired: DesiredStackSet) -> str:
    """The S3 key of the template's staged copy: its content's SHA-256."""
    digest = hashlib.sha256(desired.template_body.encode("utf-8")).hexdigest()
    return f"appstorage/{desired.name}/{digest}.json"


def template_url(bucket: str, key: str, region: str) -> str:
    return f"https://{bucket}.s3.{region}.{url_suffix(region)}/{key}"


class TemplateStager:
    """Gives each stack set request its template source; ``limit`` is the TemplateBody limit in
    bytes (CloudFormation's 51,200; lower in tests that stage the bundled templates)."""

    def __init__(
        self, factory: ClientFactory, *, limit: int = TEMPLATE_BODY_LIMIT, reporter: Reporter | None = None
    ) -> None:
        self.factory = factory
        self.limit = limit
        self.reporter: Reporter = reporter or NullReporter()
        self._uploaded: set[tuple[str, str]] = set()

    def source(self, desired: DesiredStackSet) -> dict[str, str]:
        """``{"TemplateBody": ...}``, or ``{"TemplateURL": ...}`` of the copy in the stack set's
        ``template_bucket`` (HeadObject first: an existing copy is not uploaded again)."""
        if template_size(desired) <= self.limit:
            return {"TemplateBody": desired.template_body}
        bucket = desired.template_bucket
        if not bucket:
            raise PreflightError(
                [f"the {desired.kind} template is over the limit and no template_bucket"],
                desired.environment.config_source,
            )
        key = staged_key(desired)
        region = desired.region
        if (bucket, key) not in self._uploaded:
            s3 = self.factory.s3(region)
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=desired.template_body.encode("utf-8"),
                    ContentType="application/json",
                )
                self.reporter.info(f"{desired.name}: template uploaded to s3://{bucket}/{key}")
            self._uploaded.add((bucket, key))
        return {"TemplateURL": template_url(bucket, key, region)}
