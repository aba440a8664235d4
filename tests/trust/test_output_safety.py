"""Output safety end to end: hostile values planted in the simulated AWS and in PostgreSQL leave every report
valid and inert; unique secrets of every kind appear in no output; reports are written atomically.

Hostile values: markup and script, `]]>`, quotes, template syntax, Unicode controls that XML allows
(AWS-side values travel in XML, so C0 controls cannot come from there), C0 controls and ESC in PostgreSQL
table names (quoted identifiers may hold them), and a 100 kB parameter value.
Secrets: a --pg-dsn password, a wrong --pg-dsn password (the error path), an IAM auth token (its embedded
session token), a Secrets Manager master secret, the AWS secret key. The CLI runs as a real subprocess with
--debug; stdout, stderr, the reports and the snapshot are searched byte by byte.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.models.findings import AuditResult
from auditor.report.json import load_schema
from auditor.sim import SimulatedAws
from auditor.sim.builders import create_cluster
from tests.gate.scenario import build
from tests.plugins.postgres import PASSWORD_ROLE
from tests.trust import stats
from tests.trust.conftest import REPO, invoke_main, run_cli, sim_env

pytestmark = [pytest.mark.moto_server, pytest.mark.postgres]
REGION = "us-east-1"

MARKUP = '<script>alert(1)</script>"><img src=x onerror=alert(2)>]]><![CDATA[x]]>{{7*7}}${x}&amp;|'
XML_OK_CONTROLS = "\u0085\u2028\u202e\t"
HOSTILE = MARKUP + XML_OK_CONTROLS + "trust-hostile-marker"
BIG = "trust-big-value:" + (MARKUP * 2000)[:100_000]
TABLE = "evil\x01\x1b[31m<b>]]>"  # 63 bytes at most (NAMEDATALEN)

DSN_PASSWORD = "TrustDsnPw7f3a9c1e"
WRONG_PASSWORD = "TrustWrongPw2b8d4e6f"
SECRET_VALUE = "TrustSmSecret9e1c5a7b"
AWS_SECRET_KEY = "TrustAwsSecretKey4d2f8a6c0e"
SESSION_TOKEN = "TrustSessionToken1a3c5e7f9b"
SECRETS = [DSN_PASSWORD, WRONG_PASSWORD, SECRET_VALUE, AWS_SECRET_KEY, SESSION_TOKEN]
SIG = re.compile(r"X-Amz-(Signature|Security-Token|Credential)=(?!\*\*\*)[^&\s\"']+", re.I)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.scripts += tag == "script"
        self.handlers += [f"{tag}.{k}" for k, _ in attrs if k.startswith("on")]


def html_shape(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


def _plant(sim: SimulatedAws, pg: Any) -> None:  # noqa: ANN401
    rds = sim.client("rds", REGION)
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="prod-app-cluster-aurora-postgresql16",
        Parameters=[
            {"ParameterName": "log_statement", "ParameterValue": HOSTILE, "ApplyMethod": "immediate"}
        ],
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="prod-app-db-aurora-postgresql16",
        Parameters=[
            {"ParameterName": "log_min_duration_statement", "ParameterValue": BIG, "ApplyMethod": "immediate"}
        ],
    )
    arn = rds.describe_db_clusters(DBClusterIdentifier="prod-app")["DBClusters"][0]["DBClusterArn"]
    rds.add_tags_to_resource(
        ResourceName=arn, Tags=[{"Key": "owner", "Value": HOSTILE}, {"Key": "big", "Value": BIG[:256]}]
    )
    quoted = "nopk" + MARKUP[:40].replace('"', '""')
    pg.execute(f'CREATE TABLE "{TABLE}" (v text)', f'CREATE TABLE "{quoted}" (v int)')
    pg.create_password_role("trust_dsn", DSN_PASSWORD)
    pg.execute("GRANT pg_monitor TO trust_dsn")


def _strings(node: Any) -> list[str]:  # noqa: ANN401
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _outputs(*paths: Path, texts: list[str]) -> str:
    blobs = list(texts)
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        blobs += [f.read_bytes().decode("utf-8", "replace") for f in files]
    return "\n".join(blobs)


def test_hostile_values_stay_inert_and_secrets_stay_out(aws_env: SimulatedAws, pg, tmp_path: Path) -> None:  # noqa: ANN001
    sc = build(aws_env, incident=True, global_db=False)
    _plant(aws_env, pg)
    out = tmp_path / "reports"
    env = sim_env(aws_env, AWS_SECRET_ACCESS_KEY=AWS_SECRET_KEY, AWS_SESSION_TOKEN=SESSION_TOKEN)
    r = run_cli(
        "check",
        "prod-app",
        "--region",
        REGION,
        "--baseline",
        "prod",
        "--pg-dsn",
        f"prod-app={pg.dsn(user='trust_dsn', password=DSN_PASSWORD)}",
        "--pg-dsn",
        f"{sc.green}={pg.dsn(user=PASSWORD_ROLE, password=WRONG_PASSWORD)}",
        "--format",
        "html,junit,json,md",
        "--out",
        str(out),
        "--debug",
        env=env,
    )
    assert r.code in (1, 2), (r.code, r.stderr[-3000:])
    assert "Traceback" not in r.stderr

    # ---- JSON: valid against the shipped schema, hostile values carried verbatim
    raw = (out / "report.json").read_text(encoding="utf-8")
    doc = json.loads(raw)
    jsonschema.validate(doc, load_schema())
    result = AuditResult.from_json(raw)
    everything = "\n".join(_strings(doc))
    assert HOSTILE in everything and "trust-big-value:" in everything and TABLE in everything
    green_bg08 = [f for f in result.findings if f.rule_id == "BG08" and f.resource.id == sc.green]
    assert green_bg08 and green_bg08[0].status.value == "error"  # the wrong password: error, not pass
    assert "AuthFailed" in green_bg08[0].message or "password" in green_bg08[0].message

    # ---- JUnit: well-formed XML; the marker and the table name survive, sanitised
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    root = ET.fromstring(junit)
    assert root.iter("testcase") and "trust-hostile-marker" in junit
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", junit)

    # ---- HTML: the template's own script/handlers only; values escaped, present
    html = (out / "report.html").read_text(encoding="utf-8")
    from auditor.report import Format, render
    from tests.report.fixture import build_result

    clean = html_shape(render(Format.HTML, build_result(complete=True)))
    got = html_shape(html)
    assert got.scripts == clean.scripts, (got.scripts, clean.scripts)
    assert set(got.handlers) <= set(clean.handlers), set(got.handlers) - set(clean.handlers)
    assert "img" not in got.tags - clean.tags and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)" in html and "trust-hostile-marker" in html
    assert "\x1b" not in html

    # ---- Markdown and terminal: no raw HTML, no escape sequences
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "\x1b" not in md
    assert "\x1b" not in r.stdout  # a table name's ESC cannot drive the terminal (plain text otherwise)
    assert "\x1b" not in r.stderr

    # ---- secrets: nowhere (reports, terminal, --debug log, a snapshot of the same run)
    snap = tmp_path / "snapshot.json"
    s = invoke_main(
        [
            "snapshot",
            "prod-app",
            "-o",
            str(snap),
            "--region",
            REGION,
            "--pg-dsn",
            f"prod-app={pg.dsn(user='trust_dsn', password=DSN_PASSWORD)}",
            "--pg-dsn",
            f"{sc.green}={pg.dsn(user=PASSWORD_ROLE, password=WRONG_PASSWORD)}",
        ]
    )
    assert "trust_dsn:***@" in snap.read_text()  # the connection is recorded, redacted
    blob = _outputs(out, snap, texts=[r.stdout, r.stderr, s.stdout, s.stderr])
    for s in SECRETS:
        assert s not in blob, f"secret {s} leaked"
    assert not SIG.search(blob), SIG.search(blob)
    rs01 = [f for f in result.findings if f.rule_id == "RS01" and f.resource.cluster == "prod-app"]
    assert rs01 and all(f.status.value == "pass" for f in rs01)  # DSN_PASSWORD really logged in
    stats.fault(
        "hostile values (markup, ]]>, controls, 100 kB) in AWS parameters/tags and PG names",
        "JSON schema-valid, JUnit well-formed, HTML inert, MD/terminal clean",
        5,
    )
    stats.fault("unique DSN password / wrong DSN password / AWS secret key planted", "found in no output", 3)


def test_iam_token_and_master_secret_stay_out_of_snapshots_and_logs(
    aws_env: SimulatedAws, pg, tmp_path: Path
) -> None:  # noqa: ANN001
    # Two clusters the tool logs in to by itself (no --pg-dsn), both pointed at the real server:
    # iam-app with an IAM auth token (which embeds the session token), secret-app with its master secret.
    create_cluster(aws_env, REGION, "iam-app", manage_master_password=False, iam_auth=True)
    create_cluster(aws_env, REGION, "secret-app", manage_master_password=True, iam_auth=False)
    for cid in ("iam-app", "secret-app"):
        fields = {"Endpoint": "127.0.0.1", "Port": pg.port, "DatabaseName": "postgres"}
        aws_env.set_cluster(REGION, cid, fields=fields)
    rds = aws_env.client("rds", REGION)
    secret_arn = rds.describe_db_clusters(DBClusterIdentifier="secret-app")["DBClusters"][0][
        "MasterUserSecret"
    ]["SecretArn"]
    aws_env.client("secretsmanager", REGION).put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"username": "trust_secret", "password": SECRET_VALUE})
    )
    pg.create_password_role("trust_secret", SECRET_VALUE)
    pg.execute("CREATE ROLE app_admin LOGIN IN ROLE pg_monitor")
    env = sim_env(aws_env, AWS_SECRET_ACCESS_KEY=AWS_SECRET_KEY, AWS_SESSION_TOKEN=SESSION_TOKEN)
    try:
        runs = []
        for cid in ("iam-app", "secret-app"):
            snap = tmp_path / f"{cid}.json"
            runs.append(
                run_cli(
                    "snapshot",
                    cid,
                    "-o",
                    str(snap),
                    "--region",
                    REGION,
                    "--pg-sslrootcert",
                    pg.ca_file,
                    "--debug",
                    env=env,
                )
            )
            assert runs[-1].code == 0, runs[-1].stderr[-3000:]
            state = json.loads(snap.read_text())["databases"][0]
            assert state["status"] == "collected", state  # the secret really was used to log in
        how = [
            json.loads((tmp_path / f"{c}.json").read_text())["databases"][0]["connection"]
            for c in ("iam-app", "secret-app")
        ]
        assert "IAM auth token" in how[0] and "Secrets Manager" in how[1]
        blob = _outputs(tmp_path, texts=[x.stdout + x.stderr for x in runs])
        for s in SECRETS:
            assert s not in blob, f"secret {s} leaked"
        assert not SIG.search(blob), SIG.search(blob)
    finally:
        pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_admin'",
            "DROP ROLE IF EXISTS app_admin",
        )
    stats.fault(
        "IAM auth token (session token inside) and Secrets Manager value used to log in",
        "found in no output",
        2,
    )


# ---------------------------------------------------------------- atomic reports

SNAPSHOT = REPO / "tests" / "fixtures" / "base_snapshot.json"


@pytest.mark.parametrize("failing", ["junit", "md"])
def test_a_failing_renderer_leaves_the_previous_reports_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    import auditor.report as report

    out = tmp_path / "reports"
    args = ["check", "--from-snapshot", str(SNAPSHOT), "--format", "html,junit,json,md", "--out", str(out)]
    assert invoke_main(args).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = report.render

    def render(fmt: Any, result: Any) -> str:  # noqa: ANN401
        if fmt.value == failing:
            raise RuntimeError("renderer exploded half way")
        return real(fmt, result)

    monkeypatch.setattr(report, "render", render)
    r = invoke_main([*args, "--fail-on", "low"])  # a different run: its reports would differ
    assert r.code == 2 and len(r.error_lines) == 1 and "renderer exploded" in r.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # every previous report intact, no new one mixed in, no temp file left
    stats.fault(f"{failing} renderer raising", "previous reports intact, exit 2", 1)


def test_a_write_failing_mid_file_leaves_the_target_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from auditor.cli import write_atomic

    target = tmp_path / "report.json"
    write_atomic(target, '{"run": 1}')

    def full_disk(src: Any, dst: Any) -> None:  # noqa: ANN401
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomic(target, '{"run": 2}' + " " * 100_000)
    assert target.read_text() == '{"run": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    stats.fault("ENOSPC while replacing a report", "previous report intact, no temp file", 1)
