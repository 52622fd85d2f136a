import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { withHelp } from "./help-text.ts";

describe("withHelp", () => {
  it("appends valid values, exit codes and examples to the command's help", () => {
    const command = withHelp(new Command("probe").option("--mode <m>"), {
      exitCodes: [[0, "ok"], [2, "invalid input"]],
      examples: ["sidecar-bench probe --mode a"],
      values: [["--mode", ["a", "b"]]],
    });
    const help = command.helpInformation();
    let after = "";
    command.configureOutput({ writeOut: (text) => { after += text; } });
    command.outputHelp();
    expect(help).toContain("--mode <m>");
    expect(after).toMatch(/Valid values:\n {2}--mode {2}a, b\n/);
    expect(after).toMatch(/Exit codes:\n {4}0 {2}ok\n {4}2 {2}invalid input\n/);
    expect(after).toContain("Examples:\n  sidecar-bench probe --mode a\n");
  });
});
