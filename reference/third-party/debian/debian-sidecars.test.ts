// The sidecars and fixtures the project takes from Debian's packages (scripts/debian-packages.mjs
// installs them; images/<name>/packages.txt puts the same ones in the docker images):
// each is the version its manifest names, rsyslogd accepts its config as a pod renders it,
// and on each runtime a wired pod shows rsyslog shipping the primary's access log and the
// node exporter serving the primary's textfile metrics. Certifying them is
// `sidecar-bench certify`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerTestEngine } from "../../../harness/runtime/docker/docker-test-engine.ts";
import { BACKEND_PORTS } from "../../../harness/scenario/role-wiring.ts";
import { REQUEST_TIMEOUT_MS, accessLogAndDelivered, eventually, loadSidecar, renderConfig, startRoleSidecarPod, type RoleSidecarPod, sendInfers } from "../role-sidecar-pod.ts";

const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`Debian sidecars on docker skipped: ${engine.skipReason}`);

/** The textfile is rewritten every 1 s; imfile reads on inotify. */
const DELIVERY_TIMEOUT_MS = 15_000;
const REQUESTS = 3;

/** A manifest's metadata.version as a pattern that must follow `prefix` at the start of a version line. */
async function manifestVersion(name: string, prefix: string): Promise<RegExp> {
  const version = (await loadSidecar(name)).manifest.metadata.version;
  expect(version, `scenarios/sidecars/${name}.yaml metadata.version`).toMatch(/^\d+(\.\d+)+$/);
  return new RegExp(`^${prefix}${version!.replaceAll(".", "\\.")}\\b`);
}

describe("the Debian packages", () => {
  it("are the versions the manifests name", async () => {
    expect(execFileSync("rsyslogd", ["-v"], { encoding: "utf8" })).toMatch(await manifestVersion("rsyslog", "rsyslogd\\s+"));
    expect(execFileSync("prometheus-node-exporter", ["--version"], { encoding: "utf8" })).toMatch(await manifestVersion("node-exporter", "node_exporter, version "));
    // The telemetry checks' backend and exposition checker: Prometheus 2.42 and its promtool.
    expect(execFileSync("prometheus", ["--version"], { encoding: "utf8" })).toMatch(/^prometheus, version 2\.42\./);
    expect(execFileSync("promtool", ["--version"], { encoding: "utf8" })).toMatch(/^promtool, version 2\.42\./);
  });

  it("rsyslogd accepts the rsyslog config as a pod renders it (-N1)", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-rsyslog-config-"));
    // The volumes exist when a pod starts; rsyslogd fails the check for a missing work directory.
    for (const volume of ["logs", "work"]) mkdirSync(join(outDir, volume));
    const config = renderConfig(await loadSidecar("rsyslog"), "rsyslog/rsyslog.conf", {
      ports: { rsyslog: { health: 15141 }, backend: { ...BACKEND_PORTS } },
      volumes: { logs: join(outDir, "logs"), "rsyslog-work": join(outDir, "work") },
      outDir,
    });
    // Level 1: the whole config is loaded and checked, nothing is started.
    execFileSync("rsyslogd", ["-N1", "-f", config], { stdio: ["ignore", "pipe", "pipe"] });
  });
});

for (const runtimeName of ["local", "docker"] as const) {
  const skip = runtimeName === "docker" && engine.skipReason !== null;

  describe.skipIf(skip)(`rsyslog as the primary's log shipper (${runtimeName} runtime)`, () => {
    let pod: RoleSidecarPod;

    beforeAll(async () => {
      pod = await startRoleSidecarPod(runtimeName, "rsyslog");
      expect(await sendInfers(pod, REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    }, 300_000);

    afterAll(async () => {
      await pod?.runtime.stopAll();
    });

    it("delivers every access-log line as one syslog message, octet-counted RFC 5424, the line byte for byte", async () => {
      const { lines, delivered: first } = await accessLogAndDelivered(pod, DELIVERY_TIMEOUT_MS);
      expect(lines.length).toBeGreaterThanOrEqual(REQUESTS);
      expect(first.map((r) => [r.via, r.message])).toEqual(lines.map((line) => ["syslog", line]));
      expect(first.map((r) => [r.syslog?.framing, r.syslog?.header])).toEqual(lines.map(() => ["octet-counting", "rfc5424"]));
    });
  });

  describe.skipIf(skip)(`the node exporter serving the primary's textfile (${runtimeName} runtime)`, () => {
    let pod: RoleSidecarPod;

    beforeAll(async () => {
      pod = await startRoleSidecarPod(runtimeName, "node-exporter");
      expect(await sendInfers(pod, REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    }, 300_000);

    afterAll(async () => {
      await pod?.runtime.stopAll();
    });

    it("serves the primary's counter from the metrics volume, and no node collector", async () => {
      const exposition = await eventually("kserve_requests_total in the exposition", DELIVERY_TIMEOUT_MS, async () => {
        const response = await request(`${pod.pod.url("node-exporter", "metrics")}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await response.body.text();
        return new RegExp(`^kserve_requests_total\\{[^}]*status="200"[^}]*\\} ${REQUESTS}$`, "m").test(text) ? text : undefined;
      });
      expect(exposition).toMatch(/^node_textfile_scrape_error 0$/m);
      // --collector.disable-defaults: only the textfile collector reports.
      const collectors = [...exposition.matchAll(/^node_scrape_collector_success\{collector="([^"]+)"\}/gm)].map((m) => m[1]);
      expect(collectors).toEqual(["textfile"]);
    });
  });
}
