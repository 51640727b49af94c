"""What an AWS error means for the deployer: its code, and whether it is about access, about the
caller's credentials, or about the network.

Every command reads these the same way: a read refused in a member account is reported with
:func:`unreadable_reason` and the other accounts are still read; credential errors end the
command with one line saying how to refresh them.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

__all__ = ["ACCESS_DENIED", "CREDENTIAL_ERRORS", "NETWORK_ERRORS", "error_code", "unreadable_reason"]

#: Error codes of a read refused in a target account (the role lacks the permission).
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})

#: Error codes meaning the caller's credentials are expired or not valid.
CREDENTIAL_ERRORS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "RequestExpired",
    }
)

#: Failures to reach the endpoint at all (botocore has retried the call already).
NETWORK_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore ClientError (empty when the response has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def unreadable_reason(exc: Exception) -> str | None:
    """Why a read in a target account failed, when the failure is about access there: the
    execution role could not be assumed (any STS AssumeRole error) or the call was denied. None
    for other errors (they stop the command)."""
    if not isinstance(exc, ClientError):
        return None
    code = error_code(exc)
    if exc.operation_name != "AssumeRole" and code not in ACCESS_DENIED:
        return None
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return f"{exc.operation_name} refused ({code}{': ' + message if message else ''})"
