// declaredImages on a project tree in a temp folder: the image of every Sidecar and Primary
// manifest under scenarios/ and reference/, and nothing from other YAML.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declaredImages } from "./project-cluster-images.ts";

const root = mkdtempSync(join(tmpdir(), "cluster-images-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
const manifest = (kind: string, image: string) => `apiVersion: sidecar-bench/v1alpha1\nkind: ${kind}\nmetadata:\n  name: x\nspec:\n  container:\n    command: [run]\n    image: ${image}\n`;

beforeAll(() => {
  file("reference/sidecars/fault.yaml", manifest("Sidecar", "sidecar-bench/node-sidecars:latest"));
  file("reference/sidecars/other-fault.yaml", `# a comment first\n${manifest("Sidecar", "sidecar-bench/node-sidecars:latest")}`);
  file("reference/third-party/envoy/envoy.yml", manifest("Sidecar", "envoyproxy/envoy:v1.40.0"));
  file("reference/primaries/fastapi.yaml", manifest("Primary", "sidecar-bench/primary-fastapi:latest"));
  file("scenarios/deep/nested/caddy.yaml", manifest("Sidecar", "caddy:2.11.9"));
  // Not manifests: a templated bootstrap, a scenario, a broken fixture, a manifest without an image, other files.
  file("reference/third-party/envoy/bootstrap.yaml", "static_resources:\n  listeners: [{ port: \"{{ port 'ingress' }}\" }]\nkind: Bootstrap\n");
  file("scenarios/default.yaml", "apiVersion: sidecar-bench/v1alpha1\nkind: Scenario\nspec:\n  sidecar: ../reference/sidecars/fault.yaml\n  image: not/this:1\n");
  file("reference/sidecars/broken.yaml", "kind: Sidecar\nspec: [unclosed\n  container: { image: broken/image:1 }\n");
  file("reference/sidecars/local-only.yaml", "kind: Sidecar\nspec:\n  container:\n    command: [run]\n");
  file("reference/sidecars/notes.txt", manifest("Sidecar", "text/file:1"));
  // Skipped folders: dependencies and build output.
  file("reference/integrations/node_modules/pkg/sidecar.yaml", manifest("Sidecar", "from/node-modules:1"));
  file("reference/primaries/fastapi/.venv/lib/x.yaml", manifest("Primary", "from/venv:1"));
  file("reference/integrations/sidecar-go/bin/sidecar.yaml", manifest("Sidecar", "from/bin:1"));
});

describe("declaredImages", () => {
  it("each image of a Sidecar or Primary manifest once, sorted", () => {
    expect(declaredImages(root)).toEqual(["caddy:2.11.9", "envoyproxy/envoy:v1.40.0", "sidecar-bench/node-sidecars:latest", "sidecar-bench/primary-fastapi:latest"]);
  });

  it("finds the images the project's own manifests name", () => {
    const images = declaredImages(join(import.meta.dirname, "..", ".."));
    expect(images.length).toBeGreaterThan(0);
    expect(images).toContain("sidecar-bench/node-sidecars:latest");
  });
});
