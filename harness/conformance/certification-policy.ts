// The policy a certification judges by: the suite's defaults, or the certifying party's
// CertificationPolicy file (`certify --policy platform.yaml`) over them. Never the
// sidecar's manifest: its budgets are claims (claims.ts).
import { relative } from "node:path";
import { SUITE_CONFIG_VERSION, type SuiteConfig } from "./suite-config.ts";
import { API_VERSION, certificationPolicySchema, loadManifest, type PolicyThresholds } from "../scenario/index.ts";

export interface EffectivePolicy {
  /** "suite-defaults" when no policy file was given. */
  source: "suite-defaults" | "file";
  /** Absolute path of the policy file; null for the suite defaults. */
  file: string | null;
  /** sha256 of the policy file's text; null for the suite defaults. */
  sha256: string | null;
  name: string;
  /** Every threshold after defaults. */
  thresholds: PolicyThresholds;
  /** Every wait, slack and repetition count after defaults. */
  suite: SuiteConfig;
}

/** How the certificate records the policy: where it came from and every effective value. */
export interface PolicyRecord {
  source: EffectivePolicy["source"];
  /** Relative to the project when inside it. */
  file: string | null;
  sha256: string | null;
  name: string;
  thresholds: PolicyThresholds;
  suiteConfig: { version: number; values: SuiteConfig };
}

/** The suite's own policy: every default of the CertificationPolicy schema. */
export function suitePolicy(): EffectivePolicy {
  const { metadata, spec } = certificationPolicySchema.parse({ apiVersion: API_VERSION, kind: "CertificationPolicy", metadata: { name: "suite-defaults" } });
  const { suite, ...thresholds } = spec;
  return { source: "suite-defaults", file: null, sha256: null, name: metadata.name, thresholds, suite };
}

/** The policy of a certification: the file's (throws ManifestError naming file:line:col field), or the suite defaults. */
export async function loadPolicy(file: string | null): Promise<EffectivePolicy> {
  if (file === null) return suitePolicy();
  const loaded = await loadManifest(file, "CertificationPolicy");
  const { suite, ...thresholds } = loaded.manifest.spec;
  return { source: "file", file: loaded.file, sha256: loaded.sha256, name: loaded.manifest.metadata.name, thresholds, suite };
}

export function policyRecord(policy: EffectivePolicy, projectRoot: string): PolicyRecord {
  const rel = policy.file === null ? null : relative(projectRoot, policy.file);
  return {
    source: policy.source,
    file: rel === null ? null : rel.startsWith("..") ? policy.file : rel,
    sha256: policy.sha256,
    name: policy.name,
    thresholds: policy.thresholds,
    suiteConfig: { version: SUITE_CONFIG_VERSION, values: policy.suite },
  };
}
