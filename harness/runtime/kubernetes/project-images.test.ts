// resolveImage with a stand-in for the Docker engine's label lookup: project images run as
// their content-hash tag (the cluster variant first), never as a moving tag, and are never
// pulled; other images run as declared.
import { describe, expect, it } from "vitest";
import { ImageResolutionError, resolveImage, type LabelLookup } from "./project-images.ts";

const HASH = "1f4829fb6934aa00bb11cc22dd33ee44";
const CLUSTER_HASH = "bad09af24de0ff99ee88dd77cc66bb55";

/** A lookup that knows `labels` and records what it was asked. */
function lookup(labels: Record<string, string>): LabelLookup & { asked: string[] } {
  const asked: string[] = [];
  const fn = ((reference: string) => {
    asked.push(reference);
    return labels[reference] ?? null;
  }) as LabelLookup & { asked: string[] };
  fn.asked = asked;
  return fn;
}

describe("resolveImage", () => {
  it("a project image runs its cluster variant's hash tag when there is one", () => {
    const labels = lookup({ "sidecar-bench/node-sidecars:cluster": CLUSTER_HASH, "sidecar-bench/node-sidecars:latest": HASH });
    expect(resolveImage("sidecar-bench/node-sidecars:latest", "proxy", labels)).toEqual({ image: `sidecar-bench/node-sidecars:cluster-${CLUSTER_HASH.slice(0, 12)}`, imagePullPolicy: "Never", project: true });
    expect(labels.asked).toEqual(["sidecar-bench/node-sidecars:cluster"]);
  });

  it("else the content-hash tag of :latest", () => {
    const labels = lookup({ "sidecar-bench/aux-proxy:latest": HASH });
    expect(resolveImage("sidecar-bench/aux-proxy:latest", "aux", labels)).toEqual({ image: `sidecar-bench/aux-proxy:${HASH.slice(0, 12)}`, imagePullPolicy: "Never", project: true });
    expect(labels.asked).toEqual(["sidecar-bench/aux-proxy:cluster", "sidecar-bench/aux-proxy:latest"]);
  });

  it("an untagged or :cluster reference resolves as :latest does", () => {
    const labels = lookup({ "sidecar-bench/base:latest": HASH });
    expect(resolveImage("sidecar-bench/base", "c", labels).image).toBe(`sidecar-bench/base:${HASH.slice(0, 12)}`);
    expect(resolveImage("sidecar-bench/base:cluster", "c", labels).image).toBe(`sidecar-bench/base:${HASH.slice(0, 12)}`);
  });

  it("a project image pinned to a tag runs as pinned, never pulled, without asking the engine", () => {
    const labels = lookup({});
    expect(resolveImage("sidecar-bench/loadgen:64bfe036703d", "gen", labels)).toEqual({ image: "sidecar-bench/loadgen:64bfe036703d", imagePullPolicy: "Never", project: true });
    expect(labels.asked).toEqual([]);
  });

  it("a project image the engine does not have is an error naming the container and how to build it", () => {
    expect(() => resolveImage("sidecar-bench/primary-fastapi:latest", "primary", lookup({}))).toThrow(ImageResolutionError);
    expect(() => resolveImage("sidecar-bench/primary-fastapi:latest", "primary", lookup({}))).toThrow(/container "primary" runs the project image sidecar-bench\/primary-fastapi:latest.*node scripts\/build-images\.mjs/);
  });

  it("other images run as declared and are pulled when absent", () => {
    const labels = lookup({});
    for (const image of ["envoyproxy/envoy:v1.40.0", "docker.io/library/caddy:2.11.9", "registry.example/sidecar-bench/x:latest", "ghcr.io/org/img@sha256:0123"]) {
      expect(resolveImage(image, "c", labels)).toEqual({ image, imagePullPolicy: "IfNotPresent", project: false });
    }
    expect(labels.asked).toEqual([]);
  });

  it("a pull policy the caller names wins", () => {
    expect(resolveImage("envoyproxy/envoy:v1.40.0", "c", lookup({}), "Always").imagePullPolicy).toBe("Always");
    expect(resolveImage("sidecar-bench/base:latest", "c", lookup({ "sidecar-bench/base:latest": HASH }), "IfNotPresent").imagePullPolicy).toBe("IfNotPresent");
  });

  it("a container without an image is an error naming it", () => {
    expect(() => resolveImage(undefined, "proxy", lookup({}))).toThrow(/container "proxy" declares no image \(spec.container.image\)/);
    expect(() => resolveImage("", "proxy", lookup({}))).toThrow(ImageResolutionError);
  });
});
