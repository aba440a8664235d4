"""Read-only collectors: AWS (boto3) and PostgreSQL (psycopg) state -> a frozen Snapshot."""

from __future__ import annotations

from auditor.collect.aws import READ_ONLY_OPERATIONS, AwsContext, AwsOptions, CallLog, ReadOnlyViolation

__all__ = ["READ_ONLY_OPERATIONS", "AwsContext", "AwsOptions", "CallLog", "ReadOnlyViolation"]
