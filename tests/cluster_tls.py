"""A throw-away certificate authority, and a real dask cluster that requires its certificates.

:func:`authority` makes a CA and certificates it signed (``scheduler``, ``worker``, ``owner``)
with the ``cryptography`` package; :func:`tls_cluster` starts ``dask scheduler`` and ``dask
worker`` (two single-threaded worker processes under one nanny) on 127.0.0.1 with them, as an
administrator would start a grading cluster.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DASK = Path(sys.executable).with_name("dask")
START_SECONDS = 60


@dataclass
class Pair:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, name: str, cert: x509.Certificate, key) -> Pair:
    pair = Pair(folder / f"{name}.pem", folder / f"{name}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    pair.key.chmod(0o600)
    return pair


def _certificate(subject: str, issuer: str, public_key, signing_key, ca: bool):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def authority(folder: Path, name: str, roles: tuple[str, ...]) -> dict[str, Pair]:
    """A CA (``"ca"``) and a certificate signed by it for each of ``roles``, as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    pairs = {"ca": _write(folder, f"{name}-ca",
                          _certificate(f"{name} CA", f"{name} CA", ca_key.public_key(), ca_key,
                                       ca=True), ca_key)}
    for role in roles:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(f"{name} {role}", f"{name} CA", key.public_key(), ca_key, ca=False)
        pairs[role] = _write(folder, f"{name}-{role}", cert, key)
    return pairs


def tls_options(ca: Path, pair: Pair) -> list[str]:
    return ["--tls-ca-file", str(ca), "--tls-cert", str(pair.cert), "--tls-key", str(pair.key)]


@contextlib.contextmanager
def tls_cluster(folder: Path, pairs: dict[str, Pair], workers: int = 2):
    """The address (``tls://127.0.0.1:PORT``) of a running ``dask scheduler`` with ``workers``
    single-threaded worker processes, every connection made with mutual TLS."""
    ca = pairs["ca"].cert
    scheduler_file = folder / "scheduler.json"
    logs = [(folder / f"{role}.log").open("wb") for role in ("scheduler", "worker")]
    started = [subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--protocol", "tls",
         "--no-dashboard", "--scheduler-file", str(scheduler_file),
         *tls_options(ca, pairs["scheduler"])], stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + START_SECONDS
        while not scheduler_file.is_file():
            if time.monotonic() > deadline or started[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: "
                                   f"{(folder / 'scheduler.log').read_text()[-3000:]}")
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        started.append(subprocess.Popen(
            [str(DASK), "worker", address, "--nworkers", str(workers), "--nthreads", "1",
             "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(folder / "work"),
             *tls_options(ca, pairs["worker"])], stdout=logs[1], stderr=subprocess.STDOUT))
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
