// Leaf field schemas shared by the three manifest kinds. Each says in words what it
// accepts, because that sentence is what a user reads when the field is wrong.
import { z } from "zod";
import { expected } from "./issue-messages.ts";

export const API_VERSION = "sidecar-bench/v1alpha1";

/** Kubernetes DNS label (RFC 1123): container, variant and scenario names end up in pod and label names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes port names (IANA service names): at most 15 characters, starting with a letter. */
const PORT_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const PORT_REF = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z]([-a-z0-9]*[a-z0-9])?)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const dnsLabel = z
  .string({ error: expected("a name of lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters") })
  .max(63)
  .regex(DNS_LABEL);

export const portName = z
  .string({ error: expected("a port name of lowercase letters, digits and '-', starting with a letter, at most 15 characters") })
  .max(15)
  .regex(PORT_NAME);

export const portNumber = z.int({ error: expected("a port number from 1 to 65535") }).min(1).max(65_535);

/** `<container>.<port>`, e.g. `primary.http`: how one container names another's port. */
export const portRef = z.string({ error: expected('"<container>.<port>", e.g. "primary.http"') }).regex(PORT_REF);

export interface PortRef {
  container: string;
  port: string;
}

/** Splits a `<container>.<port>` reference (already validated by `portRef`). */
export function parsePortRef(ref: string): PortRef {
  const dot = ref.indexOf(".");
  return { container: ref.slice(0, dot), port: ref.slice(dot + 1) };
}

export const nonEmptyString = z.string({ error: expected("a non-empty string") }).min(1);

export const positiveNumber = z.number({ error: expected("a number > 0") }).positive();

export const positiveInt = z.int({ error: expected("a whole number > 0") }).positive();

export const nonNegativeInt = z.int({ error: expected("a whole number ≥ 0") }).min(0);

/** Whole milliseconds: Node's timers jitter by about 1 ms, so finer settings would promise precision that is not there. */
export const durationMs = z.int({ error: expected("a whole number of milliseconds > 0") }).positive();

export const commandLine = z
  .array(nonEmptyString, { error: expected("a non-empty list of strings (program, then arguments)") })
  .min(1);

export const envVars = z.record(
  z.string({ error: expected("an environment variable name (letters, digits, '_', not starting with a digit)") }).regex(ENV_NAME),
  z.string({ error: expected("a string") }),
);

/** metadata of a Sidecar or Primary; `name` is checked by the caller's schema. */
export function componentMetadata(name: z.ZodType<string>) {
  return z
    .strictObject({
      name,
      version: nonEmptyString.optional(),
      vendor: nonEmptyString.optional(),
      description: z.string({ error: expected("a string") }).optional(),
    })
    .meta({ description: "Identity of the component, shown in reports and conformance certificates." });
}

/** The values in a list that occur more than once, with the index of each repeat. */
export function repeats<T>(values: readonly T[]): Array<{ index: number; value: T; firstIndex: number }> {
  const first = new Map<T, number>();
  const out: Array<{ index: number; value: T; firstIndex: number }> = [];
  values.forEach((value, index) => {
    const firstIndex = first.get(value);
    if (firstIndex === undefined) first.set(value, index);
    else out.push({ index, value, firstIndex });
  });
  return out;
}

/** A list whose items may not repeat; a repeat's issue points at it and at its first occurrence. */
export function uniqueList<T extends string>(item: z.ZodType<T>, what: string) {
  return z
    .array(item, { error: expected(what) })
    .superRefine((values, ctx) => {
      for (const { index, value, firstIndex } of repeats(values)) {
        ctx.addIssue({ code: "custom", path: [index], message: `${JSON.stringify(value)} is already listed at [${firstIndex}]` });
      }
    })
    .meta({ uniqueItems: true });
}

/** Narrowing for cross-field checks, which run even when sibling fields are invalid. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Runs an object's superRefine even when some of its fields failed, so all issues of a
 * file surface at once; not when the value is no object at all (that issue says enough).
 */
export const EVEN_WITH_FIELD_ISSUES = { when: (payload: { value: unknown }) => asRecord(payload.value) !== undefined };
