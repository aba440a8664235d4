"""HA07 — RDS Proxy in front of the cluster: TLS, IAM auth and pool settings as the baseline asks."""

from __future__ import annotations

from auditor.engine import values
from auditor.engine.checks._util import errored, failed, passed, skipped
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.snapshot import Snapshot


@register("rds-proxy")
def rds_proxy(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    b = bl.proxy
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if b.model_dump(exclude_none=True) == {}:
            out.append(skipped(ref, "proxy.required"))
            continue
        errs = ctx.errors(
            "DescribeDBProxies", "DescribeDBProxyTargets", "DescribeDBProxyTargetGroups", region=c.region
        )
        if errs:
            out.append(errored(ref, f"proxy configuration unknown: {error_text(errs)}"))
            continue
        proxies = ctx.proxies_of(c)
        if not proxies:
            if b.required:
                out.append(
                    failed(
                        ref,
                        "no RDS Proxy in front of the cluster: every failover drops all client "
                        "connections at once and reconnect storms hit the new writer",
                        diff({"proxy": "present"}, {"proxy": None}),
                    )
                )
            else:
                out.append(passed(ref, "no RDS Proxy, and the baseline does not require one"))
            continue
        for px in proxies:
            expected: dict[str, object] = {}
            actual: dict[str, object] = {}
            said: list[str] = []  # the pass message: what was compared, with the values seen
            if b.require_tls is not None:
                expected[f"{px.name}.require_tls"], actual[f"{px.name}.require_tls"] = (
                    b.require_tls,
                    px.require_tls,
                )
                said.append(f"TLS {'required' if px.require_tls else 'not required'}")
            if b.iam_auth is not None:
                modes = sorted({a.iam_auth or "DISABLED" for a in px.auth}) or ["(no auth)"]
                got = b.iam_auth if all(m == b.iam_auth for m in modes) else ",".join(modes)
                expected[f"{px.name}.iam_auth"], actual[f"{px.name}.iam_auth"] = b.iam_auth, got
                said.append(f"IAM auth {got}")
            ranged = []
            pools = [
                tg.pool
                for tg in px.target_groups
                if tg.pool is not None and (tg.is_default or len(px.target_groups) == 1)
            ]
            for key in (
                "max_connections_percent",
                "max_idle_connections_percent",
                "connection_borrow_timeout",
            ):
                m = getattr(b, key)
                if m is None:
                    continue
                path = f"{px.name}.{key}"
                val = getattr(pools[0], key) if pools else None
                ok = val is not None and values.matches(m, val, "integer")
                expected[path] = val if ok else values.describe(m, "integer")
                actual[path] = val
                ranged.append(path)
                said.append(f"{key} {val} (baseline {values.describe(m, 'integer')})")
            drift = diff(expected, actual, out_of_range=ranged)
            pref = ref.model_copy(update={"kind": "proxy", "id": px.name, "arn": px.arn})
            if drift:
                out.append(
                    failed(
                        pref,
                        f"RDS Proxy {px.name} differs from the baseline: "
                        + ", ".join(
                            f"{d.path.split('.', 1)[1]} is {d.actual} (want {d.expected})" for d in drift
                        ),
                        drift,
                    )
                )
            else:
                out.append(
                    passed(
                        pref,
                        f"RDS Proxy {px.name} fronts the cluster"
                        + (f" and matches the baseline: {'; '.join(said)}" if said else ""),
                    )
                )
    return out
