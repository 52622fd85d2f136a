import type Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { imageChecks, portsCheck } from "./doctor-docker.ts";
import type { ExpectedImage } from "./doctor-images.ts";

/** An engine holding exactly these images (name → id). */
function engineWith(images: Record<string, string>): Pick<Dockerode, "getImage"> {
  return {
    getImage: (name: string) =>
      ({
        inspect: async () => {
          if (!images[name]) throw new Error(`No such image: ${name}`);
          return { Id: images[name] };
        },
      }) as unknown as Dockerode.Image,
  };
}

const envoy: ExpectedImage = {
  repository: "sidecar-bench/envoy",
  hashTag: "sidecar-bench/envoy:a334520b99c0",
  aliases: ["envoyproxy/envoy:v1.40.0"],
  required: false,
  neededFor: "scenarios/sidecars/envoy.yaml",
};
const current = "sha256:c58256447a3c0000";
const older = "sha256:0123456789ab0000";

describe("doctor's image checks", () => {
  it("up to date: :latest and the alias are the image of the current content-hash tag", async () => {
    const checks = await imageChecks(engineWith({ "sidecar-bench/envoy:latest": current, "sidecar-bench/envoy:a334520b99c0": current, "envoyproxy/envoy:v1.40.0": current }), envoy);
    expect(checks).toEqual([
      { name: "sidecar-bench/envoy:latest", status: "ok", detail: "present, up to date (id c58256447a3c, tag :a334520b99c0)" },
      { name: "envoyproxy/envoy:v1.40.0", status: "ok", detail: "present, up to date (id c58256447a3c, tag :a334520b99c0)" },
    ]);
  });

  it("stale: :latest is an older build, and no image has the current tag", async () => {
    const [latest, alias] = await imageChecks(engineWith({ "sidecar-bench/envoy:latest": older, "envoyproxy/envoy:v1.40.0": older }), envoy);
    expect(latest).toEqual({ name: "sidecar-bench/envoy:latest", status: "warn", detail: "present (id 0123456789ab), stale (inputs changed): node scripts/build-images.mjs" });
    expect(alias!.status).toBe("warn");
  });

  it("missing: a fail for an image every pod needs, a warning for one only some scenarios need", async () => {
    const [optional] = await imageChecks(engineWith({}), envoy);
    expect(optional).toEqual({ name: "sidecar-bench/envoy:latest", status: "warn", detail: "missing: node scripts/build-images.mjs (scenarios/sidecars/envoy.yaml)" });
    const [required] = await imageChecks(engineWith({}), { ...envoy, repository: "sidecar-bench/base", aliases: [], required: true, neededFor: "every pod's pause container" });
    expect(required!.status).toBe("fail");
  });

  it("present but its inputs cannot be hashed here: says which input, claims nothing about freshness", async () => {
    const [check] = await imageChecks(engineWith({ "sidecar-bench/envoy:latest": current }), { ...envoy, aliases: [], hashTag: null, unknown: "input .venv/lib/python*/site-packages/envoy/_bin/envoy missing (npm run setup)" });
    expect(check).toEqual({
      name: "sidecar-bench/envoy:latest",
      status: "warn",
      detail: "present (id c58256447a3c), freshness unknown: input .venv/lib/python*/site-packages/envoy/_bin/envoy missing (npm run setup)",
    });
  });
});

describe("doctor's ports check", () => {
  it("ok for kernel NAT, a warning with the fix for the userland proxy, info when it cannot tell", () => {
    expect(portsCheck(false)).toMatchObject({ status: "ok", detail: expect.stringMatching(/kernel's NAT/) });
    expect(portsCheck(true)).toMatchObject({ status: "warn", fix: expect.stringMatching(/--userland-proxy=false/) });
    expect(portsCheck(null).status).toBe("info");
  });
});
