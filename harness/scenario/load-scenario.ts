// A scenario file and everything it references, loaded and checked as one unit: the
// checks that span files (entry points, proxy upstreams, shared ports) need the whole pod.
import { dirname, relative, resolve } from "node:path";
import { didYouMean } from "./did-you-mean.ts";
import { parsePortRef, type PortRef } from "./fields.ts";
import {
  issueAt,
  parseManifest,
  readManifestText,
  sortIssues,
  type LoadedManifest,
  type ManifestByKind,
  type ManifestKind,
  type ParsedManifest,
} from "./load-manifest.ts";
import { ManifestError, formatFieldPath, type ManifestIssue, type PathSegment } from "./manifest-error.ts";
import { PRIMARY_HTTP_PORT, type PrimaryManifest } from "./primary-schema.ts";
import { BASELINE_VARIANT, type ScenarioManifest } from "./scenario-schema.ts";
import { PRIMARY_CONTAINER, type SidecarManifest } from "./sidecar-schema.ts";

export interface ResolvedVariant {
  name: string;
  /** Where clients send requests. */
  entry: PortRef;
  /** The pod's main container: the scenario's primary unless the variant replaces it. */
  primary: LoadedManifest<PrimaryManifest>;
  /** In start order. */
  sidecars: LoadedManifest<SidecarManifest>[];
}

/** A scenario with defaults applied and every referenced manifest loaded. JSON-serialisable. */
export interface ResolvedScenario extends LoadedManifest<ScenarioManifest> {
  primary: LoadedManifest<PrimaryManifest>;
  /** The implicit variant: no sidecars, entry primary.http. */
  baseline: ResolvedVariant;
  /** The declared variants, in declared order. */
  variants: ResolvedVariant[];
}

interface Reference {
  kind: ManifestKind;
  file: string;
  /** Where the scenario names the file. */
  path: PathSegment[];
}

type Parsed = ParsedManifest<ManifestByKind[ManifestKind]>;

interface PodContainer {
  name: string;
  ports: Record<string, number>;
  /** Where the container enters the variant, for issues about it. */
  path: PathSegment[];
}

function containerList(containers: readonly PodContainer[]): string {
  return containers.map((c) => c.name).join(", ");
}

/** Issues about one variant's pod: names, entry, proxy upstreams, shared port numbers. */
function checkVariant(
  scenario: LoadedManifest<ScenarioManifest>,
  locateInScenario: Parsed["locate"],
  index: number,
  primary: LoadedManifest<PrimaryManifest>,
  sidecars: ReadonlyArray<{ loaded: LoadedManifest<SidecarManifest>; locate: Parsed["locate"] }>,
): ManifestIssue[] {
  const variant = scenario.manifest.spec.variants[index]!;
  const at = (path: PathSegment[], message: string) => issueAt(scenario.file, locateInScenario, path, message);
  const issues: ManifestIssue[] = [];

  const containers: PodContainer[] = [{ name: PRIMARY_CONTAINER, ports: primary.manifest.spec.ports, path: ["spec", "primary"] }];
  sidecars.forEach(({ loaded }, j) => {
    const path = ["spec", "variants", index, "sidecars", j];
    const name = loaded.manifest.metadata.name;
    const clash = containers.find((c) => c.name === name);
    if (clash !== undefined) {
      issues.push(at(path, `sidecar name ${JSON.stringify(name)} (metadata.name in ${relative(scenario.dir, loaded.file)}) is already taken in this variant by ${formatFieldPath(clash.path)}; container names in a pod must be unique`));
      return;
    }
    containers.push({ name, ports: loaded.manifest.spec.ports, path });
  });

  // Containers of a pod share localhost, so one port number can serve only one of them.
  const owners = new Map<number, { container: string; port: string }>();
  for (const container of containers) {
    for (const [port, number] of Object.entries(container.ports)) {
      const owner = owners.get(number);
      if (owner === undefined) owners.set(number, { container: container.name, port });
      else if (owner.container !== container.name) {
        issues.push(at(container.path, `port ${number} ("${port}" of ${JSON.stringify(container.name)}) is also port "${owner.port}" of ${JSON.stringify(owner.container)}: containers in a pod share localhost, so give them different numbers`));
      }
    }
  }

  const describeRef = (ref: PortRef): string | undefined => {
    const target = containers.find((c) => c.name === ref.container);
    if (target === undefined) {
      return `container ${JSON.stringify(ref.container)} is not in this variant's pod (containers: ${containerList(containers)})${didYouMean(ref.container, containers.map((c) => c.name))}`;
    }
    const ports = Object.keys(target.ports);
    if (!ports.includes(ref.port)) {
      return `container ${JSON.stringify(ref.container)} has no port ${JSON.stringify(ref.port)} (ports: ${ports.join(", ") || "none"})${didYouMean(ref.port, ports)}`;
    }
    return undefined;
  };

  const entryProblem = describeRef(parsePortRef(variant.entry));
  if (entryProblem !== undefined) issues.push(at(["spec", "variants", index, "entry"], entryProblem));

  for (const { loaded, locate } of sidecars) {
    const upstream = loaded.manifest.spec.proxy?.upstream;
    if (upstream === undefined) continue;
    const problem = describeRef(parsePortRef(upstream));
    if (problem !== undefined) {
      const context = `in variant ${JSON.stringify(variant.name)} of ${relative(dirname(loaded.file), scenario.file)}`;
      issues.push(issueAt(loaded.file, locate, ["spec", "proxy", "upstream"], `${context}: ${problem}`));
    }
  }
  return issues;
}

/** Every arm must answer the same requests: a variant's own primary serves the scenario primary's model. */
function checkVariantModels(
  scenario: LoadedManifest<ScenarioManifest>,
  locate: Parsed["locate"],
  primary: LoadedManifest<PrimaryManifest>,
  variantPrimaries: LoadedManifest<PrimaryManifest>[],
): ManifestIssue[] {
  const model = primary.manifest.spec.model.name;
  return variantPrimaries.flatMap((own, i) =>
    own === primary || own.manifest.spec.model.name === model
      ? []
      : [
          issueAt(scenario.file, locate, ["spec", "variants", i, "primary"], `${relative(scenario.dir, own.file)} serves model ${JSON.stringify(own.manifest.spec.model.name)}, the scenario's primary serves ${JSON.stringify(model)}: every arm must answer the same requests`),
        ],
  );
}

/** spec.comparison names variants, and each must have the shape of its column. */
function checkComparison(scenario: LoadedManifest<ScenarioManifest>, locate: Parsed["locate"]): ManifestIssue[] {
  const { comparison, variants } = scenario.manifest.spec;
  if (comparison === undefined) return [];
  const issues: ManifestIssue[] = [];
  const names = variants.map((v) => v.name);
  for (const column of ["sidecar", "monolithic", "library"] as const) {
    const at = (message: string) => issues.push(issueAt(scenario.file, locate, ["spec", "comparison", column], message));
    const variant = variants.find((v) => v.name === comparison[column]);
    if (variant === undefined) {
      at(`no variant is named ${JSON.stringify(comparison[column])} (variants: ${names.join(", ")})${didYouMean(comparison[column], names)}`);
    } else if (column === "sidecar" && (variant.sidecars.length === 0 || parsePortRef(variant.entry).container === PRIMARY_CONTAINER)) {
      at(`variant ${JSON.stringify(variant.name)} must run the function as a sidecar: at least one sidecar, and its entry on the sidecar that hosts the function`);
    } else if (column !== "sidecar" && (variant.primary === undefined || variant.sidecars.length > 0)) {
      at(`variant ${JSON.stringify(variant.name)} must carry the function in its primary: a "primary" manifest of its own and no sidecars`);
    }
  }
  const columns = [comparison.sidecar, comparison.monolithic, comparison.library];
  if (new Set(columns).size < columns.length) {
    issues.push(issueAt(scenario.file, locate, ["spec", "comparison"], "sidecar, monolithic and library must name three different variants"));
  }
  return issues;
}

function dedupe(issues: ManifestIssue[]): ManifestIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.file, issue.path, issue.line, issue.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Loads a Scenario and every manifest it references (paths relative to the scenario
 * file), runs the checks that span files, and throws one ManifestError with every issue
 * found across all files. `primaryFile` replaces spec.primary (the `--primary` option).
 */
export async function loadScenario(file: string, options: { primaryFile?: string } = {}): Promise<ResolvedScenario> {
  const scenarioFile = resolve(file);
  const read = await readManifestText(scenarioFile);
  if ("problem" in read) throw new ManifestError([{ file: scenarioFile, path: "", message: read.problem }]);
  const parsedScenario = parseManifest(read.text, scenarioFile, "Scenario");
  const scenario = parsedScenario.loaded;
  if (scenario === undefined) throw new ManifestError(parsedScenario.issues);
  // --primary: another model server in every arm that does not bring its own; the spec as
  // recorded in the results names the manifest that ran.
  if (options.primaryFile !== undefined) scenario.manifest.spec.primary = relative(scenario.dir, resolve(options.primaryFile));
  const { spec } = scenario.manifest;

  const references: Reference[] = [
    { kind: "Primary", file: resolve(scenario.dir, spec.primary), path: ["spec", "primary"] },
    ...spec.variants.flatMap((variant, i): Reference[] =>
      variant.primary === undefined ? [] : [{ kind: "Primary", file: resolve(scenario.dir, variant.primary), path: ["spec", "variants", i, "primary"] }],
    ),
    ...spec.variants.flatMap((variant, i) =>
      variant.sidecars.map((path, j): Reference => ({ kind: "Sidecar", file: resolve(scenario.dir, path), path: ["spec", "variants", i, "sidecars", j] })),
    ),
  ];

  // Each file is read once, however many variants share it.
  const parsedByKey = new Map<string, Promise<Parsed | { problem: string }>>();
  const keyOf = (ref: Pick<Reference, "kind" | "file">) => `${ref.kind}\0${ref.file}`;
  for (const ref of references) {
    if (parsedByKey.has(keyOf(ref))) continue;
    parsedByKey.set(
      keyOf(ref),
      readManifestText(ref.file).then((r) => ("problem" in r ? r : (parseManifest(r.text, ref.file, ref.kind) as Parsed))),
    );
  }
  const parsed = new Map(await Promise.all([...parsedByKey].map(async ([key, promise]) => [key, await promise] as const)));

  const issues: ManifestIssue[] = [];
  const reported = new Set<string>();
  for (const ref of references) {
    const result = parsed.get(keyOf(ref))!;
    if ("problem" in result) {
      issues.push(issueAt(scenarioFile, parsedScenario.locate, ref.path, `${result.problem} (the path is relative to this scenario file)`));
    } else if (!reported.has(keyOf(ref))) {
      reported.add(keyOf(ref));
      issues.push(...result.issues);
    }
  }
  if (issues.length > 0) throw new ManifestError(sortIssues(dedupe(issues)));

  // From here on every referenced file parsed cleanly.
  const lookup = (kind: ManifestKind, path: string) => parsed.get(keyOf({ kind, file: resolve(scenario.dir, path) })) as Parsed;
  const primary = lookup("Primary", spec.primary).loaded as LoadedManifest<PrimaryManifest>;
  const variantSidecars = spec.variants.map((variant) =>
    variant.sidecars.map((path) => {
      const result = lookup("Sidecar", path);
      return { loaded: result.loaded as LoadedManifest<SidecarManifest>, locate: result.locate };
    }),
  );

  const variantPrimaries = spec.variants.map((variant) =>
    variant.primary === undefined ? primary : (lookup("Primary", variant.primary).loaded as LoadedManifest<PrimaryManifest>),
  );
  const crossIssues = [
    ...spec.variants.flatMap((_, i) => checkVariant(scenario, parsedScenario.locate, i, variantPrimaries[i]!, variantSidecars[i]!)),
    ...checkVariantModels(scenario, parsedScenario.locate, primary, variantPrimaries),
    ...checkComparison(scenario, parsedScenario.locate),
  ];
  if (crossIssues.length > 0) throw new ManifestError(sortIssues(dedupe(crossIssues)));

  return {
    ...scenario,
    primary,
    baseline: { name: BASELINE_VARIANT, entry: { container: PRIMARY_CONTAINER, port: PRIMARY_HTTP_PORT }, primary, sidecars: [] },
    variants: spec.variants.map((variant, i) => ({
      name: variant.name,
      entry: parsePortRef(variant.entry),
      primary: variantPrimaries[i]!,
      sidecars: variantSidecars[i]!.map((s) => s.loaded),
    })),
  };
}

/** The variant named `name`, `baseline` included; throws naming the ones that exist. */
export function findVariant(resolved: ResolvedScenario, name: string): ResolvedVariant {
  if (name === BASELINE_VARIANT) return resolved.baseline;
  const variant = resolved.variants.find((v) => v.name === name);
  if (variant === undefined) {
    const names = [BASELINE_VARIANT, ...resolved.variants.map((v) => v.name)];
    throw new Error(`unknown variant ${JSON.stringify(name)} in ${resolved.file} (variants: ${names.join(", ")})${didYouMean(name, names)}`);
  }
  return variant;
}
