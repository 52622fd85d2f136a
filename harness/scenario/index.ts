// The scenario package's public surface: schemas, loaders, the pod spec builder and
// JSON Schema output, for the CLI and the experiment runner.
export { ManifestError, formatFieldPath, formatManifestIssue, type ManifestIssue, type PathSegment } from "./manifest-error.ts";
export { API_VERSION, parsePortRef, type PortRef } from "./fields.ts";
export {
  PRIMARY_CONTAINER,
  SIDECAR_FEATURES,
  SIDECAR_ROLES,
  sidecarSchema,
  type SidecarFeature,
  type SidecarManifest,
  type SidecarManifestInput,
  type SidecarRole,
} from "./sidecar-schema.ts";
export {
  certificationPolicySchema,
  type CertificationPolicy,
  type CertificationPolicyInput,
  type PolicyThresholds,
} from "./policy-schema.ts";
export { PRIMARY_FEATURES, PRIMARY_HTTP_PORT, primarySchema, type PrimaryFeature, type PrimaryManifest, type PrimaryManifestInput } from "./primary-schema.ts";
export {
  BASELINE_VARIANT,
  PAYLOAD_FORMATS,
  REQUEST_KINDS,
  RUNTIMES,
  TENSOR_DATATYPES,
  scenarioSchema,
  type ComparisonSpec,
  type LoadModel,
  type RuntimeName,
  type ScenarioManifest,
  type ScenarioManifestInput,
} from "./scenario-schema.ts";
export {
  MANIFEST_SCHEMAS,
  loadManifest,
  parseManifest,
  type LoadedManifest,
  type ManifestByKind,
  type ManifestKind,
  type ParsedManifest,
} from "./load-manifest.ts";
export { findVariant, loadScenario, type ResolvedScenario, type ResolvedVariant } from "./load-scenario.ts";
export { toContainerSpec, toPodSpec, type PodSpecOptions } from "./to-pod-spec.ts";
export { jsonSchemaFileName, manifestJsonSchema, manifestJsonSchemaText, writeJsonSchemas } from "./json-schemas.ts";
