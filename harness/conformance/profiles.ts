// Which profiles a sidecar is certified against: lifecycle and resources always (every
// sidecar shares the pod's lifecycle and its CPU and memory), a role's profile only when
// the manifest declares that role.
import type { SidecarRole } from "../scenario/index.ts";
import type { Profile } from "./conformance-test.ts";

/** Every profile, in the order reports and tables list them (sorted by name). */
export const PROFILES: readonly Profile[] = ["lifecycle", "logs", "proxy", "resources", "secrets", "telemetry"];

/** Profiles that apply whatever roles a sidecar declares. */
export const UNIVERSAL_PROFILES: readonly Profile[] = ["lifecycle", "resources"];

/** A flag value or a file names an unknown profile, or one the sidecar's roles exclude. */
export class ProfileSelectionError extends Error {
  override name = "ProfileSelectionError";
}

export function isProfile(value: string): value is Profile {
  return (PROFILES as readonly string[]).includes(value);
}

/** The profiles a sidecar with these roles is certified against, sorted. */
export function applicableProfiles(roles: readonly SidecarRole[]): Profile[] {
  const profiles = new Set<Profile>([...UNIVERSAL_PROFILES, ...roles]);
  return PROFILES.filter((p) => profiles.has(p));
}

/**
 * `--profile proxy --profile lifecycle,resources` → sorted unique profiles. Throws
 * ProfileSelectionError naming the value that is not a profile.
 */
export function parseProfileList(values: readonly string[]): Profile[] {
  const chosen = new Set<Profile>();
  for (const value of values.flatMap((v) => v.split(","))) {
    const name = value.trim();
    if (name === "") continue;
    if (!isProfile(name)) throw new ProfileSelectionError(`--profile: unknown profile "${name}" (profiles: ${PROFILES.join(", ")})`);
    chosen.add(name);
  }
  return PROFILES.filter((p) => chosen.has(p));
}
