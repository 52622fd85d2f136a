// The verdict travels from the test (in vitest's worker) to the progress reporter (in
// certify's process) as task metadata: vitest shows skipped and not-supported alike as
// "skipped", and certify's progress lines must tell them apart.
import type { Verdict } from "./conformance-test.ts";

export interface ConformanceMeta {
  verdict: Verdict;
  message: string;
  durationMs: number;
}

declare module "vitest" {
  interface TaskMeta {
    conformance?: ConformanceMeta;
  }
}
