import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { planPinning } from "./cpu-pinning.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("planPinning", () => {
  it("puts the load generator on CPU 0 and the pods on the others", () => {
    expect(planPinning("split", 4)).toMatchObject({ loadGeneratorCpus: [0], podCpus: [1, 2, 3] });
    expect(planPinning("split", 1)).toMatchObject({ mode: "none", podCpus: undefined });
    expect(planPinning("none", 4)).toMatchObject({ loadGeneratorCpus: [], podCpus: undefined });
  });

  it.skipIf(cpus().length < 2)("still places pods on the other CPUs when the harness is already pinned to CPU 0", () => {
    // compare pins itself before its overhead phase plans again: the plan must count the machine's CPUs, not the affinity's.
    const script = `import("./harness/experiment/cpu-pinning.ts").then((m) => console.log(JSON.stringify(m.planPinning("split").podCpus)))`;
    const output = execFileSync("taskset", ["-c", "0", process.execPath, "--import", "tsx", "-e", script], { cwd: root, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual(Array.from({ length: cpus().length - 1 }, (_, i) => i + 1));
  });
});
