import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { podMounts, sourceTreeOf } from "./pod-mounts.ts";

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "sb-mounts-"));
  mkdirSync(join(root, "project", "reference", "integrations", "monolithic"), { recursive: true });
  mkdirSync(join(root, "loose", "sidecar"), { recursive: true });
  writeFileSync(join(root, "project", "package.json"), "{}");
  return root;
}

describe("the source tree a docker pod mounts", () => {
  it("is the harness's project for a manifest inside it, whatever lies between", () => {
    const root = tree();
    const harness = join(root, "project");
    writeFileSync(join(harness, "reference", "package.json"), "{}");
    expect(sourceTreeOf(join(harness, "reference", "integrations", "monolithic"), harness)).toBe(harness);
  });

  it("is the nearest ancestor with package.json or .git for a manifest elsewhere", () => {
    const root = tree();
    const other = join(root, "elsewhere");
    mkdirSync(join(other, ".git", "x"), { recursive: true });
    mkdirSync(join(other, "sidecars", "mine"), { recursive: true });
    expect(sourceTreeOf(join(other, "sidecars", "mine"), join(root, "project"))).toBe(other);
    expect(sourceTreeOf(join(root, "project", "reference"), join(root, "elsewhere"))).toBe(join(root, "project"));
  });

  it("is the manifest's own folder when no ancestor marks a tree (never /)", () => {
    const root = tree();
    const dir = join(root, "loose", "sidecar");
    // tmpdir() has no package.json or .git above it on any sane machine.
    expect(sourceTreeOf(dir, join(root, "project"))).toBe(dir);
  });

  it("mounts the tree and configs read-only at their own paths, and /tmp writable", () => {
    const root = tree();
    const harness = join(root, "project");
    const mounts = podMounts({ baseDir: join(harness, "reference"), configDir: "/run/x/config", tmpDir: "/run/x/tmp/c", harnessRoot: harness });
    expect(mounts).toEqual([
      { source: harness, target: harness, mode: "ro" },
      { source: "/run/x/config", target: "/run/x/config", mode: "ro" },
      { source: "/run/x/tmp/c", target: "/tmp", mode: "rw" },
    ]);
  });
});
