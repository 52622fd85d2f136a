import { describe, expect, it } from "vitest";
import { doctorExitCode, formatDoctorJson, formatDoctorText, runtimeUsable, type DoctorReport, type RuntimeSection } from "./doctor-report.ts";

const local = (status: "ok" | "warn" | "fail"): RuntimeSection => ({
  runtime: "local",
  isDefault: true,
  available: true,
  checks: [
    { name: "node", status: "ok", detail: "v20.20.2" },
    { name: "python", status, detail: status === "fail" ? ".venv/bin/python: not found" : "Python 3.11.7", fix: "npm run setup" },
  ],
});
const docker: RuntimeSection = {
  runtime: "docker",
  isDefault: false,
  available: true,
  checks: [{ name: "engine", status: "fail", detail: "none reachable; start one with scripts/start-docker.sh" }],
};
const kubernetes: RuntimeSection = { runtime: "kubernetes", isDefault: false, available: false, checks: [] };
const report = (first: RuntimeSection): DoctorReport => ({ version: "0.1.0", runtimes: [first, docker, kubernetes] });

describe("doctor report", () => {
  it("a runtime is usable when available and no check failed; warnings do not count", () => {
    expect(runtimeUsable(local("ok"))).toBe(true);
    expect(runtimeUsable(local("warn"))).toBe(true);
    expect(runtimeUsable(local("fail"))).toBe(false);
    expect(runtimeUsable(kubernetes)).toBe(false);
  });

  it("exits 0 when the default runtime is usable, whatever the others say, and 1 otherwise", () => {
    expect(doctorExitCode(report(local("warn")))).toBe(0);
    expect(doctorExitCode(report(local("fail")))).toBe(1);
    expect(doctorExitCode({ version: "0.1.0", runtimes: [docker] })).toBe(1);
  });

  it("prints aligned check lines, a fix under each warn or fail, and the exit code's reason", () => {
    expect(formatDoctorText(report(local("warn")))).toBe(
      [
        "sidecar-bench 0.1.0 doctor: can each runtime run here? (nothing was started)",
        "",
        "local (default): usable (1 warning)",
        "  ok    node    v20.20.2",
        "  warn  python  Python 3.11.7",
        "                → npm run setup",
        "",
        "docker: NOT usable",
        "  fail  engine  none reachable; start one with scripts/start-docker.sh",
        "",
        "kubernetes: not available in this version",
        "",
        "exit 0: the default runtime (local) can run here",
        "",
      ].join("\n"),
    );
    const failed = formatDoctorText(report(local("fail")));
    expect(failed).toContain("local (default): NOT usable\n");
    expect(failed.trimEnd().split("\n").at(-1)).toBe("exit 1: the default runtime (local) cannot run here; see the fail lines above");
  });

  it("JSON carries each runtime's verdict and the exit code", () => {
    const parsed = JSON.parse(formatDoctorJson(report(local("fail")))) as { exitCode: number; runtimes: Array<{ runtime: string; usable: boolean }> };
    expect(parsed.exitCode).toBe(1);
    expect(parsed.runtimes.map((r) => [r.runtime, r.usable])).toEqual([
      ["local", false],
      ["docker", false],
      ["kubernetes", false],
    ]);
  });
});
