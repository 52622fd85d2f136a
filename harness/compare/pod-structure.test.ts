import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, toPodSpec } from "../scenario/index.ts";
import { configLines, podStructure } from "./pod-structure.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("configLines", () => {
  it("counts the lines a person maintains, not blanks or comments", () => {
    expect(configLines("# a comment\nkey: 1\n\n  // note\nother: [2]\n")).toBe(2);
  });
});

describe("podStructure of the compare scenario", async () => {
  const scenario = await loadScenario(join(root, "scenarios", "compare.yaml"));
  const of = (name: string) => {
    const variant = name === "baseline" ? scenario.baseline : scenario.variants.find((v) => v.name === name)!;
    return podStructure(variant, toPodSpec(scenario, name, "run").containers, root);
  };

  it("counts the sidecar pod's extra container, ports, start-up dependency and config", () => {
    const bare = of("baseline");
    const sidecar = of("sidecar");
    // The primary's http and grpc ports; the sidecar's ingress and admin on top.
    expect(bare).toMatchObject({ containers: 1, processes: 1, ports: 2, startupDependencies: 0, probes: 2 });
    expect(sidecar).toMatchObject({ containers: 2, processes: 2, ports: 4, startupDependencies: 1, probes: 4 });
    expect(sidecar.configFiles.map((f) => f.file)).toEqual([
      "reference/integrations/sidecar-go/aux-proxy.yaml",
      "reference/primaries/fastapi-kserve/primary.yaml",
    ]);
    expect(sidecar.configFiles.every((f) => f.lines > 5)).toBe(true);
    expect(sidecar.artifacts).toHaveLength(2);
  });

  it("sees one container and the primary's own ports (http, grpc) for the in-process integrations, configured by their own primary manifest", () => {
    for (const name of ["monolithic", "library"]) {
      const pod = of(name);
      expect(pod).toMatchObject({ containers: 1, ports: 2, startupDependencies: 0 });
      expect(pod.configFiles).toEqual([{ file: `reference/integrations/${name}/primary.yaml`, lines: expect.any(Number) }]);
    }
  });
});
