"""The least-privilege IAM policy for aurora-audit, generated from the read-only guard's allow-list.

The guard in auditor/collect/aws.py refuses, before sending, every operation outside
`READ_ONLY_OPERATIONS`; this module turns the same list into the policy shipped as
auditor/policy/aurora-audit-readonly.json (a test proves the file equals `policy_json()`).

Regenerate after changing the allow-list:  python -m auditor.collect.iam --write

Decisions (SECURITY.md explains them to users):
- Every action is a Describe*/List*/Get*. Most RDS, CloudWatch and Application Auto Scaling describe
  actions do not support resource-level permissions for listing ("Actions, resources, and condition keys
  for Amazon RDS", Service Authorization Reference), so they take Resource "*".
- secretsmanager:GetSecretValue (the fallback used to log in with a cluster's RDS-managed master secret
  when neither --pg-dsn nor IAM database authentication is available) is confined to the secrets RDS
  manages, which RDS names `rds!cluster-...` ("Password management with Amazon RDS and Secrets Manager").
- sts:AssumeRole is in the guard's allow-list but not in this policy: it belongs to the identity that runs
  `fleet --role-arn`, on the audit roles of other accounts, not to the audit role itself.
- rds-db:connect is not in this policy: it lets the holder log in to PostgreSQL as a database user, whose
  power PostgreSQL grants decide. Grant it separately, scoped to a dedicated read-only database user
  (README, "Security and permissions"), or pass --pg-dsn.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from auditor.collect.aws import iam_actions

POLICY_PATH = Path(__file__).resolve().parent.parent / "policy" / "aurora-audit-readonly.json"

READ_PREFIXES = ("Describe", "List", "Get")
# In the guard's allow-list, deliberately not in the audit role's policy (see the module docstring).
NOT_IN_POLICY = frozenset({"sts:AssumeRole"})
SCOPED: dict[str, list[str]] = {
    "secretsmanager:GetSecretValue": ["arn:aws:secretsmanager:*:*:secret:rds!cluster-*"],
}


def policy_document() -> dict[str, Any]:
    actions = [a for a in iam_actions() if a not in NOT_IN_POLICY]
    broad = [a for a in actions if a not in SCOPED]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AuroraAuditReadTopology",
            "Effect": "Allow",
            "Action": broad,
            "Resource": "*",
        }
    ]
    for action in sorted(a for a in actions if a in SCOPED):
        statements.append(
            {
                "Sid": "AuroraAuditReadRdsManagedMasterSecret",
                "Effect": "Allow",
                "Action": [action],
                "Resource": SCOPED[action],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def policy_json() -> str:
    return json.dumps(policy_document(), indent=2) + "\n"


def policy_actions(document: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for st in document["Statement"]:
        acts = st["Action"]
        out.update([acts] if isinstance(acts, str) else acts)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Print (or --write) aurora-audit's least-privilege IAM policy.")
    ap.add_argument("--write", action="store_true", help=f"write {POLICY_PATH}")
    args = ap.parse_args(argv)
    if args.write:
        POLICY_PATH.parent.mkdir(parents=True, exist_ok=True)
        POLICY_PATH.write_text(policy_json(), encoding="utf-8")
        print(f"wrote {POLICY_PATH}")
    else:
        print(policy_json(), end="")


if __name__ == "__main__":
    main()
