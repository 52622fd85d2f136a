import { describe, expect, it } from "vitest";
import { buildGenerateStreamRequest } from "../load/generate-request.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { TOKEN_STREAM_NEEDS_OPEN_LOOP, runClosedTrial } from "./trial-runner.ts";

describe("runClosedTrial", () => {
  it("refuses a token stream (the closed loop cannot time tokens) before touching the pod", async () => {
    const untouchable = new Proxy({}, { get: () => { throw new Error("the pod was used"); } }) as StartedPod;
    const trial = runClosedTrial({
      sequence: 0,
      round: 0,
      warmup: false,
      arm: { name: "baseline", pod: untouchable, entry: { container: "primary", port: "http" } },
      request: buildGenerateStreamRequest({ model: "mlp", maxTokens: 4 }, 1),
      load: { mode: "closed", connections: 1, timeoutMs: 1_000 },
      durationMs: 1_000,
    });
    await expect(trial).rejects.toThrow(TOKEN_STREAM_NEEDS_OPEN_LOOP);
  });
});
