// JUnit XML for CI systems (GitHub Actions test reporters, GitLab, Jenkins), written with
// junit-report-builder. One representation for every command that reports test cases:
// `run`'s thresholds and `diff`'s gate.
import junitModule, { type Builder } from "junit-report-builder";

// The package is CommonJS whose module.exports is the builder, while its types declare an
// ES default export: Node hands the builder itself to a default import, TypeScript (NodeNext)
// expects it under .default. Accept either.
const junit: Builder = (junitModule as unknown as { default?: Builder }).default ?? (junitModule as unknown as Builder);

export interface JunitCase {
  /** Shown as the class (e.g. the variant); with `name` it identifies the case across runs. */
  className: string;
  name: string;
  result: "passed" | "failed" | "skipped";
  /** Why: the measured value with its CI and the limit, or the change and its margin. */
  message: string;
  timeSec?: number;
}

export interface JunitSuite {
  name: string;
  cases: JunitCase[];
}

export function junitXml(suites: readonly JunitSuite[]): string {
  const builder = junit.newBuilder();
  for (const suite of suites) {
    const node = builder.testSuite().name(suite.name);
    for (const c of suite.cases) {
      const testCase = node.testCase().className(c.className).name(c.name).time(c.timeSec ?? 0);
      if (c.result === "failed") testCase.failure(c.message);
      // A skipped element carries no message in this format's writer: the reason goes to system-out.
      else if (c.result === "skipped") testCase.skipped().standardOutput(c.message);
      else testCase.standardOutput(c.message);
    }
  }
  return `${builder.build()}\n`;
}
