// Names and label values as Kubernetes validates them: an RFC 1123 label (pod, container
// and namespace names: at most 63 of [a-z0-9-], alphanumeric at both ends) and a label
// value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends, or empty).
import { describe, expect, it } from "vitest";
import { dnsLabel, labelValue, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_RUN_ID, ownerLabels, runLabels, runNamespace } from "./kube-names.ts";

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const awkward = [
  "",
  "-",
  "---",
  "a",
  "Pod_1",
  "proxy.sidecar",
  "  spaced  out  ",
  "Ünïcödé-näme",
  "emoji-😀-pod",
  "-leading-and-trailing-",
  "a".repeat(63),
  "a".repeat(64),
  `${"ab-".repeat(30)}z`,
  `${"x".repeat(56)}-------y`,
  "2024-01-01T00:00:00.000Z",
];

describe("dnsLabel", () => {
  it("keeps a valid label as it is", () => {
    for (const name of ["a", "proxy", "pod-1", "0abc", "a".repeat(63)]) expect(dnsLabel(name)).toBe(name);
  });

  it.each(awkward)("makes a valid RFC 1123 label of %j", (text) => {
    const label = dnsLabel(text);
    expect(label).toMatch(RFC1123_LABEL);
    expect(label.length).toBeLessThanOrEqual(63);
  });

  it("lower-cases and turns other runs of characters into one '-', with a hash suffix since it changed", () => {
    expect(dnsLabel("Pod_1")).toMatch(/^pod-1-[0-9a-f]{5}$/);
    expect(dnsLabel("a__b..c")).toMatch(/^a-b-c-[0-9a-f]{5}$/);
    expect(dnsLabel("Pod_1")).toBe(dnsLabel("Pod_1"));
  });

  it("keeps names that clean to the same text distinct", () => {
    const names = ["Pod_1", "pod.1", "POD-1", "pod 1", "pod-1"];
    expect(new Set(names.map((n) => dnsLabel(n))).size).toBe(names.length);
    const long = (tail: string) => `${"p".repeat(70)}${tail}`;
    expect(dnsLabel(long("a"))).not.toBe(dnsLabel(long("b")));
  });

  it("cuts long names to the maximum, hash included", () => {
    expect(dnsLabel("a".repeat(64))).toHaveLength(63);
    expect(dnsLabel("Some_Pod_Name", 12)).toMatch(/^some-p-[0-9a-f]{5}$/);
    expect(dnsLabel("Some_Pod_Name", 12).length).toBeLessThanOrEqual(12);
  });

  it("a run's namespace is a label too", () => {
    expect(runNamespace("2026-12-06T20-58-36_abc")).toMatch(RFC1123_LABEL);
    expect(runNamespace("r1")).toBe("sidecar-bench-r1");
  });
});

describe("labelValue", () => {
  it.each(awkward)("makes a valid, non-empty label value of %j", (text) => {
    const value = labelValue(text);
    expect(value).toMatch(LABEL_VALUE);
    expect(value.length).toBeGreaterThan(0);
    expect(value.length).toBeLessThanOrEqual(63);
  });

  it("keeps upper case, dots and underscores; replaces the rest", () => {
    expect(labelValue("Run_2026.12.06")).toBe("Run_2026.12.06");
    expect(labelValue("2026-12-06T20:58:36Z")).toBe("2026-12-06T20-58-36Z");
    expect(labelValue("host name.example")).toBe("host-name.example");
  });

  it("cuts at 63 and never ends on a separator", () => {
    expect(labelValue(`${"a".repeat(62)}-b`)).toBe("a".repeat(62));
    expect(labelValue("x".repeat(100))).toHaveLength(63);
  });
});

describe("owner and run labels", () => {
  it("carry the owner's pid, start and host, and the run id, as valid label values", () => {
    const owner = { pid: "4242", start: "123456789", host: "build-host" };
    expect(ownerLabels(owner)).toEqual({ [LABEL_OWNER_PID]: "4242", [LABEL_OWNER_START]: "123456789", [LABEL_OWNER_HOST]: "build-host" });
    const labels = runLabels("2026-12-06T20:58:36.123Z run", owner);
    expect(labels[LABEL_RUN_ID]).toBe("2026-12-06T20-58-36.123Z-run");
    for (const value of Object.values(labels)) expect(value).toMatch(LABEL_VALUE);
  });
});
