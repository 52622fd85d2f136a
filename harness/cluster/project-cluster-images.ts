// The images a run of this project may ask a cluster for: every image the project's
// manifests name (scenarios/, reference/), resolved as the kubernetes runtime resolves
// them, plus the in-cluster load generator, the NAT init container's image and the role
// backends' (harness/scenario/role-wiring.ts).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { LOADGEN_IMAGE, NET_INIT_IMAGE, resolveImage } from "../runtime/kubernetes/project-images.ts";
import { BACKEND_IMAGE, PROMETHEUS_IMAGE } from "../scenario/role-wiring.ts";

export const PAUSE_IMAGE = "sidecar-bench/pause:latest";
const MANIFEST_ROOTS = ["scenarios", "reference"];
const SKIPPED_DIRS = new Set(["node_modules", ".venv", "__pycache__", "bin", ".git"]);

function* yamlFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) yield* yamlFiles(path);
    } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
      yield path;
    }
  }
}

/** `spec.container.image` of every Sidecar and Primary manifest under the project's manifest folders. */
export function declaredImages(projectRoot: string): string[] {
  const images = new Set<string>();
  for (const root of MANIFEST_ROOTS) {
    for (const file of yamlFiles(join(projectRoot, root))) {
      const text = readFileSync(file, "utf8");
      // Templated configs (Envoy's bootstrap) are YAML too, but no manifests.
      if (!/^kind:\s*(Sidecar|Primary)\s*$/m.test(text)) continue;
      let doc: unknown;
      try {
        doc = parse(text);
      } catch {
        continue; // not a manifest (or a deliberately malformed fixture)
      }
      const manifest = doc as { kind?: unknown; spec?: { container?: { image?: unknown } } } | null;
      const image = manifest?.spec?.container?.image;
      if ((manifest?.kind === "Sidecar" || manifest?.kind === "Primary") && typeof image === "string") images.add(image);
    }
  }
  return [...images].sort();
}

/** What `cluster up` imports: each declared image as a pod would run it, the generator's and the init container's. */
export function clusterImages(projectRoot: string): string[] {
  const references = [...declaredImages(projectRoot), LOADGEN_IMAGE, NET_INIT_IMAGE, BACKEND_IMAGE, PROMETHEUS_IMAGE];
  return [...new Set(references.map((reference) => resolveImage(reference, reference).image))];
}
