import { describe, expect, it } from "vitest";
import { ManifestError, formatFieldPath, formatManifestIssue } from "./manifest-error.ts";

describe("formatFieldPath", () => {
  it("joins keys with dots and indices in brackets, quoting odd keys", () => {
    expect(formatFieldPath(["spec", "variants", 0, "sidecars", 1])).toBe("spec.variants[0].sidecars[1]");
    expect(formatFieldPath(["spec", "ports", "metrics-http"])).toBe("spec.ports.metrics-http");
    expect(formatFieldPath(["spec", "container", "env", "A.B"])).toBe('spec.container.env["A.B"]');
    expect(formatFieldPath([])).toBe("");
  });
});

describe("ManifestError", () => {
  it("prints one issue per line as file:line:col path: message, relative to cwd", () => {
    const error = new ManifestError(
      [
        { file: "/repo/scenarios/a.yaml", path: "spec.workload.load.ratePerSec", line: 12, column: 17, message: 'expected a number > 0, found "fast"' },
        { file: "/repo/scenarios/a.yaml", path: "", line: 3, column: 1, message: "YAML syntax error: x" },
        { file: "/elsewhere/b.yaml", path: "spec.primary", message: "file not found" },
      ],
      { cwd: "/repo" },
    );
    expect(error.name).toBe("ManifestError");
    expect(error.message).toBe(
      [
        'scenarios/a.yaml:12:17 spec.workload.load.ratePerSec: expected a number > 0, found "fast"',
        "scenarios/a.yaml:3:1 YAML syntax error: x",
        "/elsewhere/b.yaml spec.primary: file not found",
      ].join("\n"),
    );
    expect(error.issues).toHaveLength(3);
  });

  it("uses process.cwd() by default", () => {
    const issue = { file: `${process.cwd()}/x.yaml`, path: "kind", line: 2, column: 7, message: "m" };
    expect(new ManifestError([issue]).message).toBe("x.yaml:2:7 kind: m");
    expect(formatManifestIssue(issue, "/")).toBe(`${process.cwd().slice(1)}/x.yaml:2:7 kind: m`);
  });
});
