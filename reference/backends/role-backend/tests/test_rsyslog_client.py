"""The syslog receiver against its main client, Debian's rsyslogd (imfile → omfwd over TCP),
in the framings and templates a logs sidecar config would use. Skipped where rsyslogd is
not installed."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Backend, _die_with_parent

RSYSLOGD = shutil.which("rsyslogd") or (Path("/usr/sbin/rsyslogd") if Path("/usr/sbin/rsyslogd").exists() else None)
ARRIVAL_TIMEOUT_S = 20.0

LINES = [
    json.dumps({"seq": 1, "msg": "caf\u00e9 \u65e5\u672c \U0001f680 \"q\" \\ \t"}, ensure_ascii=False),
    json.dumps({"seq": 2, "pad": "x" * 20_000}),
    "123 starts with digits and a space",
    "  leading spaces",
]

# (omfwd framing, template) → what the backend must report for each line.
ACTIONS = {
    "octet-5424": ('TCP_Framing="octet-counted" template="line5424"', ("octet-counting", "rfc5424")),
    "octet-msg": ('TCP_Framing="octet-counted" template="msgonly"', ("octet-counting", "none")),
    "lf-msg": ('template="msgonly"', ("lf", "none")),
}


@pytest.mark.skipif(RSYSLOGD is None, reason="rsyslogd not installed (Debian package rsyslog)")
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_rsyslog_omfwd_delivers_every_line_exactly(backend: Backend, tmp_path: Path, action: str) -> None:
    options, expected_syslog = ACTIONS[action]
    (tmp_path / "work").mkdir()
    log_file = tmp_path / "access.log"
    log_file.write_text("".join(f"{line}\n" for line in LINES), encoding="utf-8")
    config = tmp_path / "rsyslog.conf"
    config.write_text(f"""
global(maxMessageSize="256k" workDirectory="{tmp_path / 'work'}" parser.escapeControlCharactersOnReceive="off")
module(load="imfile" mode="inotify")
template(name="line5424" type="string" string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% - - - %msg%")
template(name="msgonly" type="string" string="%msg%")
ruleset(name="forward") {{
  action(type="omfwd" target="127.0.0.1" port="{backend.ports['syslog']}" protocol="tcp" {options})
}}
input(type="imfile" file="{log_file}" tag="access" ruleset="forward" readMode="0" freshStartTail="off" addMetadata="off")
""", encoding="utf-8")
    rsyslogd = subprocess.Popen([str(RSYSLOGD), "-n", "-f", str(config), "-i", str(tmp_path / "rsyslogd.pid")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
    try:
        records = backend.wait_logs(len(LINES), timeout_s=ARRIVAL_TIMEOUT_S)
        time.sleep(0.3)  # anything extra (a duplicate, a split line) would arrive meanwhile
        records = backend.logs()["records"]
    finally:
        rsyslogd.send_signal(signal.SIGTERM)
        try:
            output, _ = rsyslogd.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            rsyslogd.kill()
            output, _ = rsyslogd.communicate()
    assert [r["message"] for r in records] == LINES, output.decode("utf-8", "replace")[-2000:]
    assert {(r["syslog"]["framing"], r["syslog"]["header"]) for r in records} == {expected_syslog}
