"""Throwaway PostgreSQL servers on loopback for tests marked `postgres`.

`pg_server_factory(name)` starts (once per session, per name) a real server: initdb as the `postgres`
user (initdb and pg_ctl refuse root), wal_level=logical, fsync=off, a free 127.0.0.1 port, TLS with a
throwaway CA made with `cryptography` (so sslmode=verify-full is exercised for real), trust for the
superuser on loopback and scram-sha-256 for members of `PASSWORD_GROUP` (`PASSWORD_ROLE` and roles made
by `create_password_role`). `pg_server` is the default one ("blue");
`pg_dsn` is its superuser URI and cleans up after each test (slots dropped, ALTER SYSTEM reset, objects
gone). Without PostgreSQL binaries the tests fail when CI=true and skip otherwise.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PASSWORD_GROUP = "pw_users"
PASSWORD_ROLE = "audit_pw"
PASSWORD_ROLE_PASSWORD = "correct-horse-battery-staple-7d1f"


def find_bindir() -> str | None:
    """PostgreSQL server binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for c in candidates:
        if c and os.path.exists(os.path.join(c, "initdb")) and os.path.exists(os.path.join(c, "pg_ctl")):
            return c
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120, cwd="/", **kw)  # type: ignore[call-overload]


def _make_tls(d: Path) -> None:
    """A CA and a server certificate for 127.0.0.1/localhost (SAN), like the RDS CA bundle + endpoint;
    plus an unrelated CA that verify-full must reject. Made with `cryptography` (a moto dependency)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("aurora-audit test CA")
    _, other = ca("other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (d / "ca.crt").write_bytes(pem(ca_cert))
    (d / "other-ca.crt").write_bytes(pem(other))
    (d / "server.crt").write_bytes(pem(server))
    (d / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    os.chmod(d / "server.key", 0o600)


@dataclass
class PgServer:
    name: str
    bindir: str
    root: Path
    port: int
    started: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def ca_file(self) -> str:
        return str(self.root / "tls" / "ca.crt")

    @property
    def other_ca_file(self) -> str:
        return str(self.root / "tls" / "other-ca.crt")

    def dsn(
        self,
        user: str = "postgres",
        password: str | None = None,
        dbname: str = "postgres",
        sslmode: str = "disable",
        **params: str,
    ) -> str:
        auth = f"{user}:{password}" if password is not None else user
        query = "&".join([f"sslmode={sslmode}", *(f"{k}={v}" for k, v in params.items())])
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}?{query}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(self.dsn(dbname=dbname), autocommit=autocommit)

    def execute(self, *statements: str, dbname: str = "postgres") -> list[tuple]:  # type: ignore[type-arg]
        with self.connect(dbname) as conn:
            rows: list[tuple] = []  # type: ignore[type-arg]
            for s in statements:
                cur = conn.execute(s)
                if cur.description:
                    rows = cur.fetchall()
            return rows

    def set_settings(self, **settings: str) -> None:
        """ALTER SYSTEM + reload (max_wal_size, max_slot_wal_keep_size are sighup settings)."""
        stmts = [f"ALTER SYSTEM SET {k} = '{v}'" for k, v in settings.items()]
        self.execute(*stmts, "SELECT pg_reload_conf()")
        time.sleep(0.2)  # the postmaster re-reads the file asynchronously

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tls = self.root / "tls"
        tls.mkdir(exist_ok=True)
        _make_tls(tls)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            for p in [tls, *tls.iterdir()]:
                shutil.chown(p, "postgres", "postgres")
        _as_postgres(
            [
                f"{self.bindir}/initdb",
                "-D",
                str(self.datadir),
                "--auth=trust",
                "--no-sync",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
        # Password roles (members of PASSWORD_GROUP) must authenticate with scram; everyone else is trusted.
        hba = (
            "local all all trust\n"
            f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        (self.datadir / "pg_hba.conf").write_text(hba)
        opts = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "logical",
            "max_replication_slots": "10",
            "max_wal_senders": "10",
            "fsync": "off",
            "max_wal_size": "64MB",
            "checkpoint_timeout": "1h",
            "ssl": "on",
            "ssl_cert_file": f"'{tls / 'server.crt'}'",
            "ssl_key_file": f"'{tls / 'server.key'}'",
            "password_encryption": "'scram-sha-256'",
            **self.extra,
        }
        # In postgresql.conf, not on the command line: command-line settings would override ALTER SYSTEM
        # (postgresql.auto.conf), and the tests change max_wal_size and max_slot_wal_keep_size that way.
        with open(self.datadir / "postgresql.conf", "a") as f:
            f.write("\n# aurora-audit test server\n")
            f.writelines(f"{k} = {v}\n" for k, v in opts.items())
        _as_postgres(
            [
                f"{self.bindir}/pg_ctl",
                "-D",
                str(self.datadir),
                "-l",
                str(self.root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.started = True
        self.execute(
            f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN",
            f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD_ROLE_PASSWORD}' IN ROLE {PASSWORD_GROUP}",
        )

    def create_password_role(self, name: str, password: str) -> None:
        """A login role that must give `password` (scram-sha-256); dropped by reset()."""
        self.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {PASSWORD_GROUP}")

    def stop(self) -> None:
        if self.started:
            try:
                _as_postgres([f"{self.bindir}/pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop"])
            finally:
                self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def reset(self) -> None:
        """Between tests: no slots, no stray sessions, default settings, empty public schema."""
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'walsender')",
        )
        for _ in range(50):
            busy = self.execute("SELECT count(*) FROM pg_replication_slots WHERE active")[0][0]
            if not busy:
                break
            time.sleep(0.1)
        self.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active",
            "ALTER SYSTEM RESET ALL",
            "SELECT pg_reload_conf()",
            "DROP SCHEMA public CASCADE",
            "CREATE SCHEMA public",
            # every other user schema too: a keyless table left in one would fail the next test's BG06
            "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE "
            "'pg\\_%' AND nspname NOT IN ('information_schema', 'public') LOOP "
            "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$",
            "GRANT ALL ON SCHEMA public TO public",
        )
        roles = self.execute(
            "SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid "
            f"JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = '{PASSWORD_GROUP}' "
            f"AND r.rolname <> '{PASSWORD_ROLE}'"
        )
        for (pub,) in self.execute("SELECT pubname FROM pg_publication"):
            self.execute(f'DROP PUBLICATION "{pub}"')
        dbs = self.execute(
            "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"
        )
        for (db,) in dbs:
            self.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
        for (role,) in roles:
            self.execute(f'DROP ROLE "{role}"')


def _no_postgres(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server_factory() -> Iterator[Callable[[str], PgServer]]:
    """`factory(name)` -> a running PgServer, started once per name per session (blue, green, ...)."""
    servers: dict[str, PgServer] = {}
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="aurora-audit-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")

    def factory(name: str) -> PgServer:
        if bindir is None:
            _no_postgres(
                "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin)"
            )
        if name not in servers:
            server = PgServer(name=name, bindir=str(bindir), root=base / name, port=free_port())
            try:
                server.start()
            except (subprocess.CalledProcessError, OSError) as exc:
                detail = getattr(exc, "stderr", "") or str(exc)
                server.stop()
                _no_postgres(f"could not start PostgreSQL {name}: {detail.strip()[-500:]}")
            servers[name] = server
        return servers[name]

    yield factory
    for s in servers.values():
        s.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(pg_server_factory: Callable[[str], PgServer]) -> PgServer:
    return pg_server_factory("blue")


@pytest.fixture()
def pg(pg_server: PgServer) -> Iterator[PgServer]:
    """The default server, cleaned after the test (slots, settings, tables, publications, databases)."""
    yield pg_server
    pg_server.reset()


@pytest.fixture()
def pg_dsn(pg: PgServer) -> str:
    """Superuser URI of the default server (no TLS), cleaned after the test."""
    return pg.dsn()
