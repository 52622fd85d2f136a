"""The KV v2 store against its main client, consul-template (v0.41.1, built into .venv/bin by
the set-up): the KV v2 probe, the first render, and a rotation reaching the file without a
restart. Skipped where the binary has not been built."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PACKAGE_DIR, TOKEN, Backend, _die_with_parent

REPO_ROOT = PACKAGE_DIR.parents[2]
CONSUL_TEMPLATE = next((str(p) for p in (REPO_ROOT / ".venv" / "bin" / "consul-template",) if p.exists()),
                       shutil.which("consul-template"))
SECRET_PATH = "sidecar-bench/primary"
RENDER_TIMEOUT_S = 20.0


def wait_for_text(path: Path, expected: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8") == expected:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(CONSUL_TEMPLATE is None, reason="consul-template not built (npm run setup builds it into .venv/bin)")
def test_consul_template_renders_and_follows_a_rotation(start_backend, tmp_path: Path) -> None:
    backend: Backend = start_backend(env={"STORE_SEED": json.dumps({SECRET_PATH: {"api_key": "first-5e1"}})})
    secret_file = tmp_path / "api-key"
    config = tmp_path / "consul-template.hcl"
    # default_lease_duration: KV v2 secrets carry no lease, so consul-template re-reads them
    # every 1/3–2/3 of this; renew_token off, since the token has no lease to renew.
    config.write_text(f"""
vault {{
  address = "http://127.0.0.1:{backend.ports['vault']}"
  renew_token = false
  default_lease_duration = "3s"
}}
template {{
  contents = "{{{{ with secret \\"secret/data/{SECRET_PATH}\\" }}}}{{{{ .Data.data.api_key }}}}{{{{ end }}}}"
  destination = "{secret_file}"
  perms = 0400
}}
""", encoding="utf-8")
    process = subprocess.Popen([CONSUL_TEMPLATE, "-config", str(config), "-log-level", "debug"],
                               env={"PATH": "/usr/bin:/bin", "VAULT_TOKEN": TOKEN}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        rendered = wait_for_text(secret_file, "first-5e1", RENDER_TIMEOUT_S)
        assert rendered, "consul-template did not render the seeded secret"
        assert secret_file.stat().st_mode & 0o777 == 0o400
        written = backend.vault("PUT", f"/v1/secret/data/{SECRET_PATH}", {"data": {"api_key": "second-9c7"}})
        assert written.status == 200
        assert wait_for_text(secret_file, "second-9c7", RENDER_TIMEOUT_S), "the rotation did not reach the file"
    finally:
        process.send_signal(signal.SIGINT)  # consul-template stops on SIGINT, not SIGTERM
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    reads = [r for r in backend.control("/vault/reads")["reads"] if r["kind"] == "data"]
    assert [r["version"] for r in reads][:1] == [1]
    assert 2 in [r["version"] for r in reads]
    probes = [r["path"] for r in backend.control("/vault/requests")["requests"]]
    assert f"/v1/sys/internal/ui/mounts/secret/data/{SECRET_PATH}" in probes
    text = output.decode("utf-8", "replace")
    for secret in ("first-5e1", "second-9c7", TOKEN):
        assert secret not in text
        assert secret not in backend.output()
