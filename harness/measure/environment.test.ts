import { describe, expect, it } from "vitest";
import { withRuntimeDescription, type EnvironmentFingerprint } from "./environment.ts";

const fingerprint = { runtime: "docker", accounting: "docker", cores: 2 } as EnvironmentFingerprint;

describe("withRuntimeDescription", () => {
  it("leaves the fingerprint of a runtime with nothing to add (local) as it is: no engine, no images", async () => {
    const { fingerprint: after, error } = await withRuntimeDescription(fingerprint, async () => ({}));
    expect(after).toEqual(fingerprint);
    expect("engineVersion" in after || "images" in after).toBe(false);
    expect(error).toBeNull();
  });

  it("adds the engine version and the images the pods ran", async () => {
    const images = { "sidecar-bench/primary-fastapi:latest": "sha256:7cfae3d7999b" };
    const { fingerprint: after, error } = await withRuntimeDescription(fingerprint, async () => ({ engineVersion: "20.10.24+dfsg1", images }));
    expect(after).toEqual({ ...fingerprint, engineVersion: "20.10.24+dfsg1", images });
    expect(after.images).not.toBe(images); // a copy: the runtime's own map may grow with later pods
    expect(fingerprint).not.toHaveProperty("engineVersion");
    expect(error).toBeNull();
  });

  it("turns a runtime that cannot answer into a warning, not a failed run", async () => {
    const { fingerprint: after, error } = await withRuntimeDescription(fingerprint, () => Promise.reject(new Error("engine went away")));
    expect(after).toBe(fingerprint);
    expect(error).toBe("the runtime could not describe itself for the environment fingerprint: engine went away");
  });
});
