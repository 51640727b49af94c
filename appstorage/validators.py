"""Small pure validators for configuration values and props.

Each returns ``None`` when the value is fine, or a ``(problem, fix)`` pair that the
configuration loader turns into an error naming the file and the field, and that an object
built in code raises at construction (:class:`appstorage.errors.PropsError`): the same words on
both paths. This module owns each pattern; template parameters derive theirs from it
(:func:`cloudformation_pattern`). It imports only the standard library.

The rules AWS documents for names, tags and limits live in :mod:`appstorage.awsnames` (each
citing its source) and are re-exported here; where we refuse more than AWS does, the fix says why
(dots in our own bucket names, ``*`` as a CORS origin). A value quoted in a message is shown with
:func:`shown`, bounded whatever it is (a huge number, a deep list).
"""

from __future__ import annotations

import re

from .awsnames import (
    BUCKET_RE,
    EXPORT_NAME_RE,
    IAM_ROLE_ARN_RE,
    IAM_ROLE_NAME_RE,
    MAX_ALARM_NAME,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    MAX_TTL_ATTRIBUTE,
    OWN_BUCKET_RE,
    SSM_MAX_ARN,
    SSM_MAX_DEPTH,
    SSM_MAX_NAME,
    SSM_NAME_RE,
    STACK_SET_NAME_RE,
    TABLE_NAME_RE,
    TAG_SYMBOLS,
    Problem,
    check_access_logs_bucket,
    check_alarm_name,
    check_attribute_name,
    check_bucket_name,
    check_cors_origin,
    check_export_name,
    check_iam_role_arn,
    check_iam_role_name,
    check_s3_bucket_name,
    check_ssm_arn_length,
    check_ssm_parameter_name,
    check_ssm_path,
    check_stack_set_name,
    check_stack_set_tag,
    check_table_name,
    check_tag,
    check_ttl_attribute,
    known_regions,
    partition_of,
    shown,
)

__all__ = [
    "ARCHIVE_STORAGE_CLASSES",
    "BUCKET_RE",
    "EXPORT_NAME_RE",
    "IAM_ROLE_ARN_RE",
    "IAM_ROLE_NAME_RE",
    "MAX_ALARM_NAME",
    "MAX_TAGS",
    "MAX_TAG_KEY",
    "MAX_TAG_VALUE",
    "MAX_TTL_ATTRIBUTE",
    "OWN_BUCKET_RE",
    "SERVABLE_STORAGE_CLASSES",
    "SSM_MAX_ARN",
    "SSM_MAX_DEPTH",
    "SSM_MAX_NAME",
    "SSM_NAME_RE",
    "STACK_SET_NAME_RE",
    "TABLE_NAME_RE",
    "TAG_SYMBOLS",
    "Problem",
    "check_access_logs_bucket",
    "check_account_id",
    "check_alarm_name",
    "check_attribute_name",
    "check_bucket_name",
    "check_choice",
    "check_cloudfront_distribution_arn",
    "check_cors_method",
    "check_cors_origin",
    "check_export_name",
    "check_iam_role_arn",
    "check_iam_role_name",
    "check_kms_key_arn",
    "check_logical_id",
    "check_name",
    "check_organizational_unit",
    "check_region",
    "check_request_units",
    "check_s3_bucket_name",
    "check_servable_storage_class",
    "check_sns_topic_arn",
    "check_ssm_arn_length",
    "check_ssm_parameter_name",
    "check_ssm_path",
    "check_stack_set_name",
    "check_stack_set_tag",
    "check_table_name",
    "check_tag",
    "check_ttl_attribute",
    "check_vpc_endpoint_id",
    "check_whole_number",
    "cloudformation_pattern",
    "known_regions",
    "partition_of",
    "shown",
]


NAME_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
KMS_KEY_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"key/(?P<id>(mrk-)?[a-zA-Z0-9-]+)$"
)
SNS_TOPIC_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<name>[A-Za-z0-9_-]{1,256}(\.fifo)?)$"
)
CLOUDFRONT_ARN_RE = re.compile(r"^arn:aws[a-z-]*:cloudfront::\d{12}:distribution/[A-Z0-9]+$")
VPCE_RE = re.compile(r"^vpce-[0-9a-f]{8,17}$")
#: Organizations: ``ou-`` ids and root ids, as CreateStackInstances' OrganizationalUnitIds take them
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html).
OU_RE = re.compile(r"^(?:ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$")
LOGICAL_ID_RE = re.compile(r"^[A-Za-z0-9]{1,255}$")
#: S3 storage classes whose objects GetObject returns at once, so CloudFront can serve them.
SERVABLE_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
#: Storage classes whose objects must be restored (RestoreObject, minutes to hours) before any
#: GetObject: GetObject answers 403 InvalidObjectState, so CloudFront cannot serve them.
ARCHIVE_STORAGE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
#: The methods a CORS rule may allow.
CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
#: DynamoDB on-demand maximum request units we accept (the account's table-level quota applies too).
MAX_REQUEST_UNITS = 10_000_000


def cloudformation_pattern(regex: re.Pattern[str]) -> str:
    """``regex`` as a CloudFormation ``AllowedPattern`` (a Java regular expression): the same
    expression without Python's named groups ``(?P<name>...)``, which Java spells differently and
    a template parameter does not need. The validators own each regex; templates derive theirs."""
    text, out, named, i = regex.pattern, [], [], 0
    while i < len(text):
        if text[i] == "\\":  # an escape: copy it with the escaped character
            out.append(text[i : i + 2])
            i += 2
        elif text[i] == "[":  # a character class: copy it to its closing bracket
            end = i + 1 + (text[i + 1] == "^")
            end += text[end] == "]"
            while text[end] != "]":
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("(?P<", i):
            named.append(True)
            i = text.index(">", i) + 1
        else:
            if text[i] == "(":
                named.append(False)
            elif text[i] == ")" and named.pop():
                i += 1
                continue
            out.append(text[i])
            i += 1
    return "".join(out)


def check_name(value: str, what: str) -> Problem:
    if not NAME_RE.fullmatch(value):
        return (
            f"{what} {shown(value)} is not a valid name",
            "use lowercase letters, digits and single hyphens, starting with a letter "
            "and not ending with a hyphen (e.g. 'tattoo-directory')",
        )
    return None


def check_region(value: str) -> Problem:
    if value in known_regions():
        return None
    near = sorted(r for r in known_regions() if r.split("-")[0] == value.split("-")[0])
    hint = f" (known regions with that prefix: {', '.join(near)})" if near else ""
    return (
        f"{shown(value)} is not an AWS region{hint}",
        "use a region code such as 'us-east-1'; if the region is new, upgrade botocore",
    )


def check_account_id(value: str) -> Problem:
    if not ACCOUNT_RE.fullmatch(value):
        return (
            f"account id {shown(value)} is not 12 digits",
            "write the account id as a quoted string of exactly 12 digits, "
            'e.g. "111111111111" (quote it so YAML keeps leading zeros)',
        )
    return None


def check_organizational_unit(value: str) -> Problem:
    if not OU_RE.fullmatch(value):
        return (
            f"{shown(value)} is not an organizational unit or root id",
            "use an id such as 'ou-ab12-cd34ef56' or a root id such as 'r-ab12'",
        )
    return None


def check_kms_key_arn(value: str, region: str | None) -> Problem:
    """A key ARN, in ``region`` when one is given (None: the region is not known yet)."""
    match = KMS_KEY_ARN_RE.fullmatch(value)
    if not match:
        return (
            f"{shown(value)} is not a KMS key ARN",
            "use 'arn:aws:kms:<region>:<account>:key/<key-id>' (a key ARN, not an alias), "
            "or 'ssm:/path' to resolve it per account and region",
        )
    if region is not None and match["region"] != region:
        return (
            f"the key is in {match['region']} but is used in {region}",
            f"give the ARN of a key in {region} (S3 and DynamoDB need a key in their own region)",
        )
    return None


def check_sns_topic_arn(value: str, region: str | None) -> Problem:
    """A topic ARN, in ``region`` when one is given (None: the region is not known yet)."""
    match = SNS_TOPIC_ARN_RE.fullmatch(value)
    if not match:
        return (
            f"{shown(value)} is not an SNS topic ARN",
            "use 'arn:aws:sns:<region>:<account>:<topic>' (the monitoring module's alarm topic), "
            "or 'ssm:/path' to resolve it per account and region",
        )
    if region is not None and match["region"] != region:
        return (
            f"the topic is in {match['region']} but the alarms are in {region}",
            f"give the ARN of a topic in {region} (CloudWatch alarm actions must be in the alarm's region)",
        )
    return None


def check_servable_storage_class(value: str) -> Problem:
    """A storage class for objects CloudFront serves (the images buckets and their backups)."""
    if value in SERVABLE_STORAGE_CLASSES:
        return None
    if value in ARCHIVE_STORAGE_CLASSES:
        return (
            f"{value} objects cannot be read until they are restored (GetObject answers 403 "
            "InvalidObjectState), so CloudFront could not serve these images, also not after a failover",
            f"use one of {', '.join(SERVABLE_STORAGE_CLASSES)} (GLACIER_IR is the archive class that "
            "still serves in milliseconds)",
        )
    return (
        f"{shown(value)} is not a storage class for served objects",
        f"use one of: {', '.join(SERVABLE_STORAGE_CLASSES)}",
    )


def check_request_units(value: int) -> Problem:
    """DynamoDB on-demand maximum read or write request units per second."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUEST_UNITS:
        return (
            f"{value} is not from 1 to {MAX_REQUEST_UNITS:,}",
            "write a whole number of request units per second (the account's table-level quota, "
            "40,000 unless raised, applies too), or remove the field for no limit",
        )
    return None


def check_cloudfront_distribution_arn(value: str) -> Problem:
    if not CLOUDFRONT_ARN_RE.fullmatch(value):
        return (
            f"{shown(value)} is not a CloudFront distribution ARN",
            "use 'arn:aws:cloudfront::<account>:distribution/<ID>' or 'ssm:/path'",
        )
    return None


def check_vpc_endpoint_id(value: str) -> Problem:
    if not VPCE_RE.fullmatch(value):
        return (
            f"{shown(value)} is not a VPC endpoint id",
            "use an id such as 'vpce-0123456789abcdef0' or 'ssm:/path'",
        )
    return None


def check_whole_number(value: object, lo: int, hi: int) -> Problem:
    """A whole number (not a boolean) from ``lo`` to ``hi``."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        return (
            f"{shown(value)} is not a whole number from {lo} to {hi}",
            f"write a whole number from {lo} to {hi}",
        )
    return None


def check_choice(value: object, choices: tuple[str, ...]) -> Problem:
    if not isinstance(value, str) or value not in choices:
        return (f"{shown(value)} is not allowed", f"use one of: {', '.join(choices)}")
    return None


def check_logical_id(value: str) -> Problem:
    """A CloudFormation logical id (resources, parameters, conditions)."""
    if not LOGICAL_ID_RE.fullmatch(value):
        return (
            f"logical id {shown(value)} is not alphanumeric",
            "use letters and digits only (at most 255), e.g. 'ImagesBucket'",
        )
    return None


def check_cors_method(value: str) -> Problem:
    if value not in CORS_METHODS:
        return (f"{shown(value)} is not a CORS method", f"use one of: {', '.join(CORS_METHODS)}")
    return None
