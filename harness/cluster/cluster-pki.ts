// The cluster's certificates and kubeconfigs, made with openssl: one CA; serving
// certificates for the API server and the kubelet (127.0.0.1 / localhost); client
// certificates whose subject is the identity Kubernetes' RBAC and Node authorizer expect
// (system:node:<node>, system:kube-scheduler, …); a key pair for service-account tokens.
// ECDSA P-256 keys: quick to make, and accepted by every component. Kept across
// `cluster down` (valid one year); missing or expiring ones are made again.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { BRIDGE_ADDRESS, CONTEXT_NAME, NODE_NAME, PORTS, type ClusterLayout } from "./cluster-layout.ts";

const VALID_DAYS = 365;
/** Made again when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

export class PkiError extends Error {
  override name = "PkiError";
}

interface LeafSpec {
  name: string;
  subject: string;
  usage: "server" | "client" | "server,client";
  altNames?: string[];
}

/** The first address of the service range is the API server's in-cluster address. */
const APISERVER_ALT_NAMES = ["IP:127.0.0.1", "IP:10.248.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc"];

export const CLIENT_IDENTITIES = {
  admin: "/O=system:masters/CN=sidecar-bench-admin",
  apiserverKubeletClient: "/O=system:masters/CN=kube-apiserver-kubelet-client",
  kubelet: `/O=system:nodes/CN=system:node:${NODE_NAME}`,
  controllerManager: "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
} as const;

const LEAVES: LeafSpec[] = [
  { name: "apiserver", subject: "/CN=kube-apiserver", usage: "server", altNames: APISERVER_ALT_NAMES },
  { name: "kubelet-serving", subject: `/CN=${NODE_NAME}`, usage: "server", altNames: ["IP:127.0.0.1", `IP:${BRIDGE_ADDRESS}`, `DNS:${NODE_NAME}`] },
  { name: "apiserver-kubelet-client", subject: CLIENT_IDENTITIES.apiserverKubeletClient, usage: "client" },
  { name: "admin", subject: CLIENT_IDENTITIES.admin, usage: "client" },
  { name: "kubelet-client", subject: CLIENT_IDENTITIES.kubelet, usage: "client" },
  { name: "controller-manager", subject: CLIENT_IDENTITIES.controllerManager, usage: "client" },
  { name: "scheduler", subject: CLIENT_IDENTITIES.scheduler, usage: "client" },
];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new PkiError(`openssl ${args[0]} failed in ${cwd}: ${stderr || (error as Error).message}`);
  }
}

function stillValid(certPath: string): boolean {
  if (!existsSync(certPath)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certPath));
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

export function pkiPath(layout: ClusterLayout, file: string): string {
  return join(layout.pkiDir, file);
}

/** Makes whatever is missing or expiring; a new CA makes every leaf again. Returns the names it made. */
export function ensurePki(layout: ClusterLayout): string[] {
  const dir = layout.pkiDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  if (!stillValid(join(dir, "ca.crt"))) {
    for (const leaf of LEAVES) rmSync(join(dir, `${leaf.name}.crt`), { force: true });
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", String(VALID_DAYS), "-subj", "/CN=sidecar-bench-cluster-ca"], dir);
    made.push("ca");
  }
  for (const leaf of LEAVES) {
    if (stillValid(join(dir, `${leaf.name}.crt`))) continue;
    const extensions = [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${leaf.usage.split(",").map((u) => (u === "server" ? "serverAuth" : "clientAuth")).join(",")}`,
      ...(leaf.altNames ? [`subjectAltName=${leaf.altNames.join(",")}`] : []),
    ];
    writeFileSync(join(dir, `${leaf.name}.ext`), `${extensions.join("\n")}\n`);
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${leaf.name}.key`, "-out", `${leaf.name}.csr`, "-subj", leaf.subject], dir);
    openssl(["x509", "-req", "-in", `${leaf.name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${leaf.name}.crt`, "-days", String(VALID_DAYS), "-extfile", `${leaf.name}.ext`], dir);
    rmSync(join(dir, `${leaf.name}.csr`), { force: true });
    rmSync(join(dir, `${leaf.name}.ext`), { force: true });
    made.push(leaf.name);
  }
  if (!existsSync(join(dir, "sa.key"))) {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"], dir);
    openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    made.push("service-account key");
  }
  return made;
}

/** A kubeconfig with the CA and the client's certificate embedded, so it can be copied anywhere. */
export function kubeconfigFor(layout: ClusterLayout, client: "admin" | "kubelet-client" | "controller-manager" | "scheduler", user: string): string {
  const read = (file: string) => readFileSync(pkiPath(layout, file)).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: CONTEXT_NAME, cluster: { server: `https://127.0.0.1:${PORTS.apiserver}`, "certificate-authority-data": read("ca.crt") } }],
    users: [{ name: user, user: { "client-certificate-data": read(`${client}.crt`), "client-key-data": read(`${client}.key`) } }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user } }],
    "current-context": CONTEXT_NAME,
  });
}
