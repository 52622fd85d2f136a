// ensurePki in a temp folder (openssl, as `cluster up` runs it), its certificates read with
// node:crypto: the identities Kubernetes' authorizers expect (RBAC's system:masters, the
// Node authorizer's system:node:<node> in system:nodes), the names each server answers to,
// serverAuth / clientAuth, all signed by the one CA; a second call makes nothing.
import { createPublicKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BRIDGE_ADDRESS, clusterLayout, CONTEXT_NAME, NODE_NAME, PORTS, SERVICE_SUBNET } from "./cluster-layout.ts";
import { CLIENT_IDENTITIES, ensurePki, kubeconfigFor, pkiPath } from "./cluster-pki.ts";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const LEAVES = ["apiserver", "kubelet-serving", "apiserver-kubelet-client", "admin", "kubelet-client", "controller-manager", "scheduler"];

const dir = mkdtempSync(join(tmpdir(), "cluster-pki-"));
const layout = clusterLayout({ stateDir: dir, cacheDir: join(dir, "cache") });
let made: string[];
beforeAll(() => {
  made = ensurePki(layout);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cert = (name: string) => new X509Certificate(readFileSync(pkiPath(layout, `${name}.crt`)));
/** OpenSSL's one-line subject ("/O=a/CN=b") as node:crypto prints it ("O=a\nCN=b"). */
const subject = (oneLine: string) => oneLine.slice(1).split("/").join("\n");
/** The first host address of an IPv4 CIDR (the API server's Service address). */
function firstHost(cidr: string): string {
  const octets = cidr.split("/")[0]!.split(".").map(Number);
  octets[3]! += 1;
  return octets.join(".");
}

describe("ensurePki", () => {
  it("makes the CA, every leaf and the service-account key pair", () => {
    expect(made).toEqual(["ca", ...LEAVES, "service-account key"]);
    expect(statSync(layout.pkiDir).mode & 0o777).toBe(0o700);
  });

  it("a self-signed CA, valid for a year", () => {
    const ca = cert("ca");
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe("CN=sidecar-bench-cluster-ca");
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    const days = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / 86_400_000;
    expect(days).toBe(365);
  });

  it("every leaf signed by the CA, no CA itself, valid for a year, with its own key", () => {
    const ca = cert("ca");
    for (const name of LEAVES) {
      const leaf = cert(name);
      expect([name, leaf.checkIssued(ca), leaf.verify(ca.publicKey), leaf.ca]).toEqual([name, true, true, false]);
      expect((Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000).toBe(365);
      const key = createPublicKey(readFileSync(pkiPath(layout, `${name}.key`)));
      expect(leaf.publicKey.equals(key)).toBe(true);
      expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    }
  });

  it("client certificates carry the identities RBAC and the Node authorizer expect, for clientAuth only", () => {
    expect(cert("admin").subject).toBe("O=system:masters\nCN=sidecar-bench-admin");
    expect(cert("kubelet-client").subject).toBe(`O=system:nodes\nCN=system:node:${NODE_NAME}`);
    expect(cert("controller-manager").subject).toBe("CN=system:kube-controller-manager");
    expect(cert("scheduler").subject).toBe("CN=system:kube-scheduler");
    expect(cert("apiserver-kubelet-client").subject).toBe(subject(CLIENT_IDENTITIES.apiserverKubeletClient));
    for (const name of ["admin", "kubelet-client", "controller-manager", "scheduler", "apiserver-kubelet-client"]) {
      expect([name, cert(name).keyUsage]).toEqual([name, [CLIENT_AUTH]]);
      expect(cert(name).subjectAltName).toBeUndefined();
    }
  });

  it("the API server's certificate answers to loopback, its Service address and in-cluster names, for serverAuth only", () => {
    const apiserver = cert("apiserver");
    expect(apiserver.keyUsage).toEqual([SERVER_AUTH]);
    expect(apiserver.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(apiserver.checkIP(firstHost(SERVICE_SUBNET))).toBe(firstHost(SERVICE_SUBNET));
    for (const host of ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]) expect(apiserver.checkHost(host)).toBe(host);
    expect(apiserver.checkHost("kubernetes.example.com")).toBeUndefined();
    expect(apiserver.checkIP(BRIDGE_ADDRESS)).toBeUndefined();
  });

  it("the kubelet's serving certificate answers to the addresses the API server dials it at", () => {
    const kubelet = cert("kubelet-serving");
    expect(kubelet.keyUsage).toEqual([SERVER_AUTH]);
    expect(kubelet.subject).toBe(`CN=${NODE_NAME}`);
    expect(kubelet.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(kubelet.checkIP(BRIDGE_ADDRESS)).toBe(BRIDGE_ADDRESS);
    expect(kubelet.checkHost(NODE_NAME)).toBe(NODE_NAME);
  });

  it("the service-account key pair belongs together (P-256)", () => {
    const fromPrivate = createPublicKey(readFileSync(pkiPath(layout, "sa.key")));
    const published = createPublicKey(readFileSync(pkiPath(layout, "sa.pub")));
    expect(fromPrivate.equals(published)).toBe(true);
    expect(published.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("leaves no signing requests or extension files behind", () => {
    const left = (LEAVES.flatMap((n) => [`${n}.csr`, `${n}.ext`]) as string[]).filter((file) => {
      try {
        statSync(pkiPath(layout, file));
        return true;
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
  });

  it("a second call makes nothing and changes nothing", () => {
    const before = [...LEAVES, "ca"].map((n) => readFileSync(pkiPath(layout, `${n}.crt`), "utf8"));
    expect(ensurePki(layout)).toEqual([]);
    expect([...LEAVES, "ca"].map((n) => readFileSync(pkiPath(layout, `${n}.crt`), "utf8"))).toEqual(before);
  });

  it("a missing leaf is made again, alone, by the same CA", () => {
    const caBefore = readFileSync(pkiPath(layout, "ca.crt"), "utf8");
    unlinkSync(pkiPath(layout, "scheduler.crt"));
    expect(ensurePki(layout)).toEqual(["scheduler"]);
    expect(readFileSync(pkiPath(layout, "ca.crt"), "utf8")).toBe(caBefore);
    expect(cert("scheduler").checkIssued(cert("ca"))).toBe(true);
  });
});

describe("kubeconfigFor", () => {
  it("the API server on loopback, the CA and the client's certificate and key embedded, one context made current", () => {
    const doc = parse(kubeconfigFor(layout, "admin", "sidecar-bench-admin")) as {
      clusters: Array<{ name: string; cluster: { server: string; "certificate-authority-data": string } }>;
      users: Array<{ name: string; user: { "client-certificate-data": string; "client-key-data": string } }>;
      contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
      "current-context": string;
    };
    expect(doc.clusters).toHaveLength(1);
    expect(doc.clusters[0]!.cluster.server).toBe(`https://127.0.0.1:${PORTS.apiserver}`);
    const decoded = (data: string) => Buffer.from(data, "base64").toString("utf8");
    expect(decoded(doc.clusters[0]!.cluster["certificate-authority-data"])).toBe(readFileSync(pkiPath(layout, "ca.crt"), "utf8"));
    expect(decoded(doc.users[0]!.user["client-certificate-data"])).toBe(readFileSync(pkiPath(layout, "admin.crt"), "utf8"));
    expect(decoded(doc.users[0]!.user["client-key-data"])).toBe(readFileSync(pkiPath(layout, "admin.key"), "utf8"));
    expect(doc.contexts).toEqual([{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: "sidecar-bench-admin" } }]);
    expect(doc.clusters[0]!.name).toBe(CONTEXT_NAME);
    expect(doc["current-context"]).toBe(CONTEXT_NAME);
  });
});
