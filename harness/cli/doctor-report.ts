// What `sidecar-bench doctor` found, as a value: per runtime, its checks and whether it
// can run here; and the two ways to show it (one screen of text, JSON for machines).
// Pure, so the wording and the exit code are tested without probing anything.

/** ok: fine. warn: the runtime runs, but something some scenarios need is missing or old. fail: the runtime cannot run. */
export type CheckStatus = "ok" | "warn" | "fail" | "info";

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface RuntimeSection {
  runtime: string;
  isDefault: boolean;
  /** False when the runtime is not available in this version at all. */
  available: boolean;
  checks: DoctorCheck[];
}

export interface DoctorReport {
  version: string;
  runtimes: RuntimeSection[];
}

export function runtimeUsable(section: RuntimeSection): boolean {
  return section.available && section.checks.every((check) => check.status !== "fail");
}

/** 0 when the default runtime can run here, 1 otherwise. */
export function doctorExitCode(report: DoctorReport): number {
  const fallback = report.runtimes.find((r) => r.isDefault);
  return fallback && runtimeUsable(fallback) ? 0 : 1;
}

function sectionHeading(section: RuntimeSection): string {
  const name = `${section.runtime}${section.isDefault ? " (default)" : ""}`;
  if (!section.available) return `${name}: not available in this version`;
  if (!runtimeUsable(section)) return `${name}: NOT usable`;
  const warnings = section.checks.filter((c) => c.status === "warn").length;
  return `${name}: usable${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}`;
}

export function formatDoctorText(report: DoctorReport): string {
  const nameWidth = Math.max(0, ...report.runtimes.flatMap((r) => r.checks.map((c) => c.name.length)));
  const lines = [`sidecar-bench ${report.version} doctor: can each runtime run here? (nothing was started)`];
  for (const section of report.runtimes) {
    lines.push("", sectionHeading(section));
    for (const check of section.checks) {
      lines.push(`  ${check.status.padEnd(4)}  ${check.name.padEnd(nameWidth)}  ${check.detail}`);
      if (check.fix && check.status !== "ok") lines.push(`  ${"".padEnd(4)}  ${"".padEnd(nameWidth)}  → ${check.fix}`);
    }
  }
  const fallback = report.runtimes.find((r) => r.isDefault);
  const code = doctorExitCode(report);
  lines.push(
    "",
    code === 0
      ? `exit 0: the default runtime (${fallback?.runtime}) can run here`
      : `exit 1: the default runtime (${fallback?.runtime ?? "none"}) cannot run here; see the fail lines above`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatDoctorJson(report: DoctorReport): string {
  const runtimes = report.runtimes.map((section) => ({ ...section, usable: runtimeUsable(section) }));
  return `${JSON.stringify({ version: report.version, exitCode: doctorExitCode(report), runtimes }, null, 2)}\n`;
}
