// Images reach the project's cluster the way `kind load docker-image` does it: saved from
// the local Docker engine and imported into containerd's k8s.io namespace, where the
// kubelet finds them (nothing can be pulled here). What was imported is remembered by
// image id, so an unchanged image is not imported again.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ClusterLayout } from "./cluster-layout.ts";

const DOCKER_CLI = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
const IMPORT_TIMEOUT_MS = 10 * 60_000;

export class ImageImportError extends Error {
  override name = "ImageImportError";
}

/** Local Docker image id of `reference`, or null when the engine lacks it (or there is no engine). */
export function dockerImageId(reference: string): string | null {
  const result = spawnSync(DOCKER_CLI, ["image", "inspect", "--format", "{{.Id}}", reference], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** containerd's name for a Docker reference: `ctr import` stores docker.io/<repo>:<tag> for short names. */
export function containerdName(reference: string): string {
  const [first] = reference.split("/");
  const hasRegistry = reference.includes("/") && (first!.includes(".") || first!.includes(":") || first === "localhost");
  const qualified = hasRegistry ? reference : `docker.io/${reference.includes("/") ? reference : `library/${reference}`}`;
  return qualified.includes(":") && !qualified.endsWith("]") && /:[\w][\w.-]*$/.test(qualified) ? qualified : `${qualified}:latest`;
}

function ctrArgs(layout: ClusterLayout, ...args: string[]): string[] {
  return ["--address", layout.containerdSocket, "--namespace", "k8s.io", ...args];
}

/** Names of the images containerd holds for the kubelet. */
export function containerdImages(layout: ClusterLayout): Set<string> {
  const result = spawnSync("ctr", ctrArgs(layout, "images", "list", "--quiet"), { encoding: "utf8" });
  if (result.status !== 0) throw new ImageImportError(`ctr images list failed: ${result.stderr.trim()}`);
  return new Set(result.stdout.split("\n").map((line) => line.trim()).filter(Boolean));
}

function readImported(layout: ClusterLayout): Record<string, string> {
  try {
    return JSON.parse(readFileSync(layout.importedImagesFile, "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** `docker save refs | ctr import -`: one stream, no temporary file. */
function importFromDocker(layout: ClusterLayout, references: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = spawn(DOCKER_CLI, ["save", ...references], { stdio: ["ignore", "pipe", "pipe"] });
    const load = spawn("ctr", ctrArgs(layout, "images", "import", "-"), { stdio: ["pipe", "ignore", "pipe"] });
    let errors = "";
    save.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    load.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    save.stdout.pipe(load.stdin);
    // An import that ends early breaks the pipe (EPIPE): its exit code says why; unheard, the error would crash the harness.
    load.stdin.on("error", () => undefined);
    const timer = setTimeout(() => {
      save.kill("SIGKILL");
      load.kill("SIGKILL");
    }, IMPORT_TIMEOUT_MS);
    let saveCode: number | null = null;
    save.once("exit", (code) => (saveCode = code));
    save.once("error", () => undefined); // no docker CLI: its stream ends, and ctr's import fails on it
    load.once("error", (error) => {
      // ctr did not start: nothing reads what docker save writes, so it would block until the timeout.
      clearTimeout(timer);
      save.kill("SIGKILL");
      reject(new ImageImportError(`ctr could not run: ${error.message}`));
    });
    load.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && saveCode === 0) resolve();
      else reject(new ImageImportError(`importing ${references.join(", ")} failed (docker save ${saveCode ?? "?"}, ctr import ${code ?? signal}): ${errors.trim().split("\n").slice(-5).join("; ")}`));
    });
  });
}

/**
 * Imports every reference whose Docker image id differs from what was last imported (or
 * that containerd lacks). Returns the references imported.
 */
export async function syncImages(layout: ClusterLayout, references: readonly string[]): Promise<string[]> {
  const imported = readImported(layout);
  const present = containerdImages(layout);
  const wanted: string[] = [];
  for (const reference of new Set(references)) {
    const id = dockerImageId(reference);
    if (id === null) throw new ImageImportError(`the local Docker engine has no image ${reference}; build it with: node scripts/build-images.mjs`);
    if (imported[reference] !== id || !present.has(containerdName(reference))) wanted.push(reference);
  }
  if (wanted.length === 0) return [];
  await importFromDocker(layout, wanted);
  for (const reference of wanted) imported[reference] = dockerImageId(reference)!;
  writeFileSync(layout.importedImagesFile, `${JSON.stringify(imported, null, 2)}\n`);
  pruneSuperseded(layout, wanted, imported);
  return wanted;
}

/**
 * The project's images are tagged by content: each change of the source tree imports a new
 * tag. Older tags of the same project repository are removed from containerd (a running
 * container keeps its snapshot), so the node's disk does not fill with superseded builds.
 */
function pruneSuperseded(layout: ClusterLayout, importedNow: readonly string[], imported: Record<string, string>): void {
  const repositoryOf = (reference: string) => reference.replace(/^docker\.io\//, "").replace(/:[^/:]+$/, "");
  const keep = new Set(importedNow.map(containerdName));
  const repositories = new Set(importedNow.filter((r) => r.startsWith("sidecar-bench/")).map(repositoryOf));
  for (const name of containerdImages(layout)) {
    if (keep.has(name) || !repositories.has(repositoryOf(name))) continue;
    spawnSync("ctr", ctrArgs(layout, "images", "remove", name), { stdio: "ignore" });
    for (const reference of Object.keys(imported)) if (containerdName(reference) === name) delete imported[reference];
  }
  writeFileSync(layout.importedImagesFile, `${JSON.stringify(imported, null, 2)}\n`);
}
