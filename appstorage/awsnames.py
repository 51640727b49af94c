"""AWS's own rules for the values that end up in an AWS name, tag or limit: tags, S3 bucket names,
SSM parameter names, IAM role names, CORS origins, stack set, export, alarm and table names, and the
regions and partitions botocore knows.

Each rule cites the AWS documentation it follows. A check returns ``None`` or ``(problem, fix)``
(:data:`Problem`), quoting the value with :func:`shown`, bounded whatever it is. Where we refuse
more than AWS does, the fix says why. :mod:`appstorage.validators` re-exports every name; this
module imports only the standard library.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import json
import re
import reprlib
import unicodedata
from pathlib import Path

__all__ = [
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
    "SSM_MAX_ARN",
    "SSM_MAX_DEPTH",
    "SSM_MAX_NAME",
    "SSM_NAME_RE",
    "STACK_SET_NAME_RE",
    "TABLE_NAME_RE",
    "TAG_SYMBOLS",
    "check_access_logs_bucket",
    "check_alarm_name",
    "check_attribute_name",
    "check_bucket_name",
    "check_cors_origin",
    "check_export_name",
    "check_iam_role_arn",
    "check_iam_role_name",
    "check_s3_bucket_name",
    "check_ssm_arn_length",
    "check_ssm_parameter_name",
    "check_ssm_path",
    "check_stack_set_name",
    "check_stack_set_tag",
    "check_table_name",
    "check_tag",
    "check_ttl_attribute",
    "known_regions",
    "partition_of",
    "shown",
]

Problem = tuple[str, str] | None

#: IAM: a role ARN is ``role/`` + an optional path (``/`` ... ``/``, 512 characters) + a name of 64
#: (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html), ASCII only.
IAM_ROLE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7e]{0,510}/)?[A-Za-z0-9_+=,.@-]{1,64}$"
)
#: IAM role names and CloudFormation's ExecutionRoleName: 1 to 64 of ``[a-zA-Z_0-9+=,.@-]``
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html).
IAM_ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")
#: SSM parameter names: ``a-zA-Z0-9_.-``, and ``/`` between the levels of a hierarchy
#: (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
SSM_NAME_RE = re.compile(r"^(?:/[a-zA-Z0-9_.-]+)+$|^[a-zA-Z0-9_.-]+$")
#: S3's rule for general purpose bucket names (any bucket another module owns, e.g. the access-log
#: bucket): 3 to 63 of lowercase letters, digits, dots and hyphens, a letter or digit first and last,
#: no two adjacent dots, not an IP address, no reserved prefix or suffix
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_RE = re.compile(
    r"^(?!xn--|sthree-|amzn-s3-demo-)(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)"
    r"(?!.*(?:-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
)
#: Our own buckets: S3's rule without dots (a dot breaks virtual-hosted-style HTTPS: the
#: certificate of *.s3.amazonaws.com does not cover it).
OWN_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
#: DynamoDB table names: 3 to 255 of ``[a-zA-Z0-9_.-]``
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
TABLE_NAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
#: Stack set names: a letter, then letters, digits and hyphens, 128 at most
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html).
STACK_SET_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
#: Export names: alphanumeric characters, colons and hyphens (CloudFormation's ValidationError
#: "must ... consist only of alphanumeric characters, colons, or hyphens"), 255 at most
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
EXPORT_NAME_RE = re.compile(r"^[A-Za-z0-9:-]{1,255}$")

#: Tags: at most 50 per resource, keys of 1 to 128 and values of 0 to 256 characters of Unicode
#: letters, digits, white space and ``_ . : / = + - @``; ``aws:`` starts AWS's own keys
#: (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html, and the pattern
#: ``[\p{L}\p{Z}\p{N}_.:/=+\-@]`` of https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html).
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256
TAG_SYMBOLS = "_.:/=+-@"
#: SSM: 15 levels at most; a name of 2048 characters at most, and 1011 for the fully qualified
#: ARN (arn:...:parameter/name) of a parameter one creates
#: (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
SSM_MAX_DEPTH, SSM_MAX_NAME, SSM_MAX_ARN = 15, 2048, 1011
#: CloudWatch alarm names: 1 to 255 characters
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
MAX_ALARM_NAME = 255
#: DynamoDB's TimeToLiveSpecification AttributeName: 1 to 255 characters
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TimeToLiveSpecification.html).
MAX_TTL_ATTRIBUTE = 255

_SHOWN = reprlib.Repr()
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlevel = 120, 60, 3
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 6


def shown(value: object) -> str:
    """``repr(value)`` for a message, bounded whatever the value is (a long string, a deep or
    aliased YAML structure, a number too large to print)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"a number of {value.bit_length()} bits"
    try:
        return _SHOWN.repr(value)
    except (ValueError, RecursionError):  # pragma: no cover - reprlib bounds sizes and levels already
        return f"a {type(value).__name__}"


@functools.cache
def _partitions() -> tuple[tuple[str, frozenset[str]], ...]:
    """Partitions and their regions, read from botocore's data without importing botocore."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - core dependency
        raise RuntimeError("botocore is not installed; reinstall appstorage")
    data_file = Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"
    data = json.loads(data_file.read_text(encoding="utf-8"))
    return tuple(
        (p["id"], frozenset(r for r in p["regions"] if not r.endswith("-global"))) for p in data["partitions"]
    )


def known_regions() -> frozenset[str]:
    """Every region botocore knows, in every partition."""
    return frozenset().union(*(regions for _, regions in _partitions()))


def partition_of(region: str) -> str:
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...) a known region belongs to."""
    for partition, regions in _partitions():
        if region in regions:
            return partition
    raise ValueError(f"unknown region {region!r}")


_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_s3_bucket_name(value: str) -> Problem:
    """S3's rule for general purpose bucket names (:data:`BUCKET_RE`): any bucket another module
    owns, dots included."""
    if not 3 <= len(value) <= 63:
        return (
            f"bucket name {shown(value)} is {len(value)} characters; S3 allows 3 to 63",
            "give the bucket's name as S3 shows it",
        )
    if value.startswith(_RESERVED_BUCKET_PREFIXES) or value.endswith(_RESERVED_BUCKET_SUFFIXES):
        return (
            f"bucket name {shown(value)} uses a prefix or suffix reserved by S3",
            "choose a name that does not start with 'xn--', 'sthree-' or 'amzn-s3-demo-' and does not "
            "end with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'",
        )
    if not BUCKET_RE.fullmatch(value):
        return (
            f"bucket name {shown(value)} breaks S3 naming rules",
            "use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, "
            "without two dots in a row and not shaped like an IP address",
        )
    return None


def check_bucket_name(value: str) -> Problem:
    """Our own buckets (and the template bucket, reached by virtual-hosted-style HTTPS): S3's rule
    (:func:`check_s3_bucket_name`) without dots, which break that TLS."""
    problem = check_s3_bucket_name(value)
    if problem is not None and not 3 <= len(value) <= 63:
        return (problem[0], "shorten the project or environment name, or set a shorter 'name_prefix'")
    if problem is not None:
        return problem
    if not OWN_BUCKET_RE.fullmatch(value):
        return (
            f"bucket name {shown(value)} has a dot",
            "use lowercase letters, digits and hyphens (no dots: they break virtual-hosted TLS)",
        )
    return None


def check_access_logs_bucket(value: str) -> Problem:
    """The log-storage module's access-log bucket: any name S3 accepts, dots included (it is only
    written to by S3's log delivery)."""
    problem = check_s3_bucket_name(value)
    if problem is None:
        return None
    return (
        problem[0],
        "give the name of the log-storage module's access-log bucket, "
        "or 'ssm:/path' to resolve it per account and region",
    )


def check_iam_role_arn(value: str) -> Problem:
    if not IAM_ROLE_ARN_RE.fullmatch(value):
        return (
            f"{shown(value)} is not an IAM role ARN",
            "use 'arn:aws:iam::<account>:role/<name>' (ASCII; a name of at most 64 characters)",
        )
    return None


def check_iam_role_name(value: str) -> Problem:
    if not IAM_ROLE_NAME_RE.fullmatch(value):
        return (
            f"{shown(value)} is not an IAM role name",
            "use 1 to 64 characters from ASCII letters, digits and '+=,.@_-'",
        )
    return None


def _ssm_public(name: str) -> bool:
    """AWS's public parameters (/aws/service/...): readable by anyone, created by AWS only."""
    return name.startswith("/aws/service/")


def _ssm_name_problem(value: str, label: str, fix: str, reserved_fix: str) -> Problem:
    """The rules of :func:`check_ssm_path`, the value quoted as ``label``."""
    if not value or len(value) > SSM_MAX_NAME or not SSM_NAME_RE.fullmatch(value):
        hint = ""
        if "/" in value and not value.startswith("/"):
            hint = ": a hierarchy starts with '/'"
        elif value.endswith("/") or "//" in value:
            hint = ": a level between slashes is empty"
        elif len(value) > SSM_MAX_NAME:
            hint = f": {len(value)} characters, SSM allows {SSM_MAX_NAME}"
        return (f"{shown(label)} is not a valid SSM parameter name{hint}", fix)
    depth = value.count("/") or 1
    if depth > SSM_MAX_DEPTH:
        return (f"{shown(label)} has {depth} levels; SSM allows {SSM_MAX_DEPTH}", "use a shorter hierarchy")
    if value.lstrip("/").lower().startswith(("aws", "ssm")) and not _ssm_public(value):
        return (f"{shown(label)} starts with 'aws' or 'ssm', which SSM reserves", reserved_fix)
    return None


def check_ssm_path(value: str) -> Problem:
    """An SSM parameter name (the part after ``ssm:``): ``/a/b/c`` (a hierarchy of at most 15
    levels) or a plain name, of ``a-zA-Z0-9_.-``, not starting with ``aws`` or ``ssm`` (reserved;
    AWS's public ``/aws/service/`` parameters excepted), at most 2048 characters (PutParameter)."""
    return _ssm_name_problem(
        value,
        "ssm:" + value,
        "write 'ssm:/a/b/c' (or 'ssm:name') with letters, digits and '_.-' between the slashes",
        "use the name the other module wrote its parameter under (it cannot start with 'aws' or 'ssm')",
    )


def check_ssm_parameter_name(value: str) -> Problem:
    """The name of a parameter a template creates: the rules of :func:`check_ssm_path` (AWS's
    public ``/aws/service/`` names are reserved too: only AWS creates them)."""
    problem = _ssm_name_problem(
        value,
        value,
        "use letters, digits and '_.-' between the slashes, e.g. '/project/env/module/Name'",
        "use a name that does not start with 'aws' or 'ssm'",
    )
    if problem is None and _ssm_public(value):
        return (f"{shown(value)} is one of AWS's public parameters", "use a name outside '/aws/'")
    return problem


def check_ssm_arn_length(value: str, region: str) -> Problem:
    """The fully qualified ARN of parameter ``value`` in ``region`` fits SSM's 1011 characters."""
    arn = (
        f"arn:{partition_of(region)}:ssm:{region}:{'1' * 12}:parameter{'' if value.startswith('/') else '/'}"
    )
    if len(arn) + len(value) > SSM_MAX_ARN:
        return (
            f"the SSM parameter's ARN in {region} would be {len(arn) + len(value)} characters; SSM allows "
            f"{SSM_MAX_ARN}",
            f"use a name of at most {SSM_MAX_ARN - len(arn)} characters",
        )
    return None


def _origin_host_problem(host: str) -> str | None:
    """Why ``host`` (of a CORS origin) is not a host name, an IP address or a pattern with one
    ``*`` that S3 matches; None when it is one."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "is not an IPv6 address"
        return None
    if host.count("*") > 1:
        return "has more than one '*' (S3 allows one wildcard per origin)"
    labels = host.split(".")
    if any(not label for label in labels) or any(len(label) > 63 for label in labels):
        return "is not a host name (a label is empty or longer than 63 characters)"
    if not all(re.fullmatch(r"[A-Za-z0-9*](?:[A-Za-z0-9*-]*[A-Za-z0-9*])?", label) for label in labels):
        return "is not a host name (letters, digits and hyphens between dots)"
    if "*" in host and len(host.rpartition("*")[2].strip(".").split(".")) < 2:
        return "would match any site of a top-level domain"
    return None


def check_cors_origin(value: str) -> Problem:
    """A CORS AllowedOrigin for a browser's ``Origin`` header: ``scheme://host[:port]`` (a port from
    1 to 65535), where the host may hold one ``*`` as S3 allows
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html). Refused although
    S3 takes them: ``*`` and patterns that match any site (any web site could read and upload),
    and a path or trailing slash (a browser never sends one, so the rule would never match)."""
    if not value:
        return ("a CORS origin is empty", "remove the empty entry or write 'https://host'")
    form = "write it without a path or trailing slash, e.g. 'https://tattoo.example.com'"
    if value == "*" or re.fullmatch(r"(?:https?://)?\*(?::[0-9*]+)?", value):
        return (
            f"{shown(value)} would let any web site read and upload objects",
            "list the exact origins, e.g. 'https://tattoo.example.com'",
        )
    match = re.fullmatch(r"(https?)://(\[[^\]]*\]|[^:/?#\[\]]+)(?::([0-9]{1,5}|\*))?", value)
    if match is None:
        return (f"CORS origin {shown(value)} is not 'scheme://host[:port]'", form)
    problem = _origin_host_problem(match[2])
    if problem is not None:
        if "any site" in problem:
            return (
                f"CORS origin {shown(value)} {problem}",
                "list the exact origins or a domain's subdomains",
            )
        return (f"CORS origin {shown(value)}: the host {problem}", form)
    port = match[3]
    if port is not None and port != "*" and not 1 <= int(port) <= 65535:
        return (f"CORS origin {shown(value)} has port {port}", "use a port from 1 to 65535")
    return None


def _tag_characters(text: str) -> bool:
    """Unicode letters (L), digits (N) and white space (Z), and ``_ . : / = + - @``."""
    return all(unicodedata.category(c)[0] in "LZN" or c in TAG_SYMBOLS for c in text)


def check_tag(key: object, value: object) -> Problem:
    """A resource tag (:data:`MAX_TAG_KEY`, :data:`MAX_TAG_VALUE`, the characters every service
    takes); keys starting with ``aws:`` (any case) are AWS's."""
    if not isinstance(key, str) or not isinstance(value, str):
        return (
            f"tag {shown(key)}: {shown(value)}: tag keys and values must be strings",
            "quote the value (YAML reads 1, true or 2024-01-01 as other types)",
        )
    if not 1 <= len(key) <= MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
        return (
            f"tag {shown(key)} has a key of {len(key)} and a value of {len(value)} characters",
            f"use keys of 1 to {MAX_TAG_KEY} and values of at most {MAX_TAG_VALUE} characters",
        )
    if key.lower().startswith("aws:"):
        return ("tag keys starting with 'aws:' are reserved", "rename the tag")
    for what, text in (("key", key), ("value", value)):
        if not _tag_characters(text):
            bad = "".join(sorted({c for c in text if not _tag_characters(c)}))
            return (
                f"the tag {what} {shown(text)} has characters AWS refuses in tags: {shown(bad)}",
                "use letters, digits, spaces and '_ . : / = + - @'",
            )
    return None


def check_stack_set_tag(key: object, value: object) -> Problem:
    """A tag of the stack sets (they carry the configured tags): a resource tag whose value is not
    empty, as CloudFormation's Tag needs 1 to 256 characters
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Tag.html)."""
    problem = check_tag(key, value)
    if problem is None and value == "":
        return ("the tag's value is empty; CloudFormation needs 1 to 256 characters", "give it a value")
    return problem


def check_attribute_name(value: object) -> Problem:
    """A DynamoDB attribute name (e.g. the TTL attribute)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TTL_ATTRIBUTE:
        return (
            f"{shown(value)} is not an attribute name",
            f"write a name of 1 to {MAX_TTL_ATTRIBUTE} characters",
        )
    return None


def check_ttl_attribute(value: object, key_attributes: tuple[str, ...]) -> Problem:
    """The TTL attribute: an attribute name that is not one of the table's key attributes (they
    hold strings, and DynamoDB deletes only items whose TTL attribute is a number)."""
    problem = check_attribute_name(value)
    if problem is None and value in key_attributes:
        return (
            f"{shown(value)} is a key attribute of the table; its values are strings, so no item "
            "would ever expire (TTL needs a Number attribute)",
            f"name another attribute (not {', '.join(key_attributes)}), e.g. 'expiresAt'",
        )
    return problem


def check_table_name(value: str) -> Problem:
    if not TABLE_NAME_RE.fullmatch(value):
        return (
            f"table name {shown(value)} is not a DynamoDB table name",
            "use 3 to 255 characters from a-z, A-Z, 0-9, '_', '-', '.'",
        )
    return None


def check_stack_set_name(value: str) -> Problem:
    if not STACK_SET_NAME_RE.fullmatch(value):
        return (
            f"stack set name {shown(value)} breaks CloudFormation's rule (a letter, then letters, digits "
            "and hyphens, 128 characters at most)",
            "set a shorter 'name_prefix' or a shorter environment name",
        )
    return None


def check_export_name(value: str) -> Problem:
    if not EXPORT_NAME_RE.fullmatch(value):
        return (
            f"export name {shown(value)} breaks CloudFormation's rule (letters, digits, ':' and '-', "
            "255 characters at most)",
            "use a shorter project name or environment name",
        )
    return None


def check_alarm_name(value: str) -> Problem:
    if not 1 <= len(value) <= MAX_ALARM_NAME:
        return (
            f"alarm name {shown(value)} is {len(value)} characters; CloudWatch allows {MAX_ALARM_NAME}",
            "set a shorter 'name_prefix' or a shorter environment name",
        )
    return None
