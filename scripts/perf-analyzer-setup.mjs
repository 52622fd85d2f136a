// Triton's perf_analyzer, the client the cross-check (bench/perf-analyzer-crosscheck.ts)
// sets beside our own generator. PyPI's perf-analyzer wheel is not served here; the
// manylinux wheel of tritonclient 2.44.0 still ships the perf_analyzer binary. It links
// libcudart.so.12 even for HTTP/gRPC (no GPU is used), taken from PyPI's
// nvidia-cuda-runtime-cu12, and Debian's libb64 (debian-packages.mjs). Both wheels are
// downloaded, not installed (tritonclient 2.44 would clash with .venv's 2.73), and the
// two files unpacked into .venv/perf-analyzer; a stamp makes a second run free.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PERF_ANALYZER_WHEELS = ["tritonclient==2.44.0", "nvidia-cuda-runtime-cu12==12.9.79"];
/** Inside the wheels: the binary, and the CUDA runtime it links. */
const MEMBERS = { binary: "tritonclient-2.44.0.data/data/bin/perf_analyzer", cudart: "nvidia/cuda_runtime/lib/libcudart.so.12" };

/** Where perf_analyzer and its lib/ live, relative to the project root. */
export const PERF_ANALYZER_DIR = join(".venv", "perf-analyzer");

export function ensurePerfAnalyzer(root, say) {
  const dir = join(root, PERF_ANALYZER_DIR);
  const stamp = join(dir, ".wheels");
  const wanted = PERF_ANALYZER_WHEELS.join(" ");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  say(`fetching perf_analyzer (${wanted}) into ${PERF_ANALYZER_DIR}`);
  const python = join(root, ".venv", "bin", "python");
  const download = mkdtempSync(join(tmpdir(), "sidecar-bench-perf-analyzer-"));
  try {
    execFileSync(python, [
      "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
      "--platform", "manylinux1_x86_64", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
      "-d", download, ...PERF_ANALYZER_WHEELS,
    ], { stdio: ["ignore", "inherit", "inherit"] }); // prettier-ignore
    const wheel = (prefix) => join(download, readdirSync(download).find((f) => f.startsWith(prefix)));
    mkdirSync(join(dir, "lib"), { recursive: true });
    // A wheel is a zip: Python's zipfile takes one member out (no unzip on a minimal machine).
    const extract = (from, member, to) => execFileSync(python, ["-c", "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))", from, member, to]);
    extract(wheel("tritonclient-"), MEMBERS.binary, join(dir, "perf_analyzer"));
    extract(wheel("nvidia_cuda_runtime"), MEMBERS.cudart, join(dir, "lib", "libcudart.so.12"));
    chmodSync(join(dir, "perf_analyzer"), 0o755);
    writeFileSync(stamp, `${wanted}\n`);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
}
