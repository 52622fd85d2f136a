// The Debian packages the role sidecars and their fixtures run from on the local runtime
// (their docker images carry the same: rsyslog in the base image, the Go binaries copied from here):
// rsyslog (scenarios/sidecars/rsyslog.yaml), the Prometheus node exporter
// (scenarios/sidecars/node-exporter.yaml) and Prometheus with promtool (the telemetry
// checks' backend and exposition checker, a fixture like the primary); and libb64 for
// Triton's perf_analyzer.
// Installed with apt-get when missing and this is root; otherwise the error says what to
// install. The packages' own system services are never started: the pods start these
// programs with their own configs, and a system-wide rsyslogd, node exporter or
// Prometheus would take fixed ports (9100, 9090) and read /etc configs.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Each package, with the programs the project runs from it. */
export const DEBIAN_PACKAGES = [
  { name: "rsyslog", programs: ["/usr/sbin/rsyslogd"] },
  { name: "prometheus-node-exporter", programs: ["/usr/bin/prometheus-node-exporter"] },
  { name: "prometheus", programs: ["/usr/bin/prometheus", "/usr/bin/promtool"] },
  // The Triton primary: its Python backend's stub links Debian's libpython3.11; .venv-triton is a venv of Debian's python3.
  { name: "libpython3.11", programs: ["/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"] },
  { name: "python3.11-venv", programs: ["/usr/lib/python3.11/ensurepip/__init__.py"] },
  // Triton's perf_analyzer (the cross-check's client, scripts/perf-analyzer-setup.mjs) links libb64.
  { name: "libb64-0d", programs: ["/usr/lib/x86_64-linux-gnu/libb64.so.0d"] },
];

/** apt-get update and install: a few hundred MiB from the mirror on a slow day. */
const APT_TIMEOUT_MS = 10 * 60_000;
/**
 * invoke-rc.d and deb-systemd-invoke ask this before starting any service from a
 * maintainer script; exit 101 means "not allowed" (Debian's policy-rc.d interface).
 * The three packages' postinst scripts start their services on a booted machine
 * (systemd, or sysvinit for prometheus and the node exporter's init scripts); in a
 * container with no init they start nothing either way.
 */
const POLICY_RC_D = "/usr/sbin/policy-rc.d";

function missingPackages() {
  return DEBIAN_PACKAGES.filter((pkg) => !pkg.programs.every((program) => existsSync(program))).map((pkg) => pkg.name);
}

/** Pids of running processes whose executable is one of `programs` (from /proc; empty where there is none). */
function runningPids(programs) {
  if (!existsSync("/proc")) return [];
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (programs.includes(readlinkSync(join("/proc", entry, "exe")))) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

function aptGet(args, say) {
  const result = spawnSync("apt-get", args, {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.error) throw new Error(`apt-get ${args[0]} could not run (${result.error.message})`);
  if (result.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status ?? result.signal}; its messages are above)`);
  say(`apt-get ${args[0]} done`);
}

/** Runs `install` with service starts denied, unless the machine already has its own policy. */
function withServicesDenied(install) {
  const ours = !existsSync(POLICY_RC_D);
  if (ours) writeFileSync(POLICY_RC_D, "#!/bin/sh\n# scripts/debian-packages.mjs: no service starts while it installs packages; removed after.\nexit 101\n", { mode: 0o755 });
  try {
    install();
  } finally {
    if (ours && readFileSync(POLICY_RC_D, "utf8").includes("scripts/debian-packages.mjs")) rmSync(POLICY_RC_D, { force: true });
  }
}

export function ensureDebianPackages({ say }) {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install --no-install-recommends ${missing.join(" ")}`;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(
      `the Debian packages ${missing.join(", ")} are needed (rsyslog and the node exporter are sidecars under test; ` +
        `prometheus and promtool the telemetry checks' backend and checker); ` +
        (hasApt ? `install them as root: sudo ${command}` : `install them with ${command} on Debian or Ubuntu (this machine has no apt-get)`),
    );
  }
  const programs = DEBIAN_PACKAGES.flatMap((pkg) => pkg.programs);
  const before = new Set(runningPids(programs));
  say(`installing Debian packages: ${missing.join(", ")} (their system services are not started)`);
  withServicesDenied(() => {
    aptGet(["update", "-qq"], say);
    aptGet(["install", "-y", "-qq", "--no-install-recommends", ...missing], say);
  });
  // Belt and braces: a daemon the install started anyway (a policy-rc.d that allowed it)
  // would hold ports the pods use; stop exactly those, never one that ran before.
  const started = runningPids(programs).filter((pid) => !before.has(pid));
  for (const pid of started) {
    say(`stopping pid ${pid}, a system service the package install started`);
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}
