// The last step of a certification: none of the secrets its checks seeded (nor their
// rotations) is in what it wrote — the certificate, the verdicts, JUnit, the performance
// reports. The pods' folder is left out: it holds the containers' own logs, whose leaks
// secrets.never-logged judges and reports (redacted), and the pods' volumes, where the
// secret file legitimately is while a pod runs.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { findSecretIn } from "../../suites/support/secret-scan.ts";
import { secretFamily } from "../../suites/support/secret-values.ts";
import { checkSecret } from "./check-secrets.ts";

const PODS_DIR = "pods";

/** One line per leak (file, line, which secret and form — never the value); [] when clean. */
export function leakedCheckSecrets(outDir: string, seed: string, testIds: readonly string[]): string[] {
  return scan(outDir, seed, testIds).map(
    (leak) => `${relative(outDir, leak.file)}:${leak.line}:${leak.column}: ${leak.secret} (${leak.form}) — a report certify wrote holds a secret the checks seeded`,
  );
}

/**
 * What certify does on a find: the files that hold a secret are removed (a report that
 * leaks is not one to keep or share), each named with where the secret was; [] when clean.
 */
export function removeLeakingReports(outDir: string, seed: string, testIds: readonly string[]): string[] {
  const leaks = scan(outDir, seed, testIds);
  for (const file of new Set(leaks.map((l) => l.file))) rmSync(file, { force: true });
  return leaks.map((leak) => `${relative(outDir, leak.file)}:${leak.line}:${leak.column} held ${leak.secret} (${leak.form}); the file is removed`);
}

function scan(outDir: string, seed: string, testIds: readonly string[]) {
  if (!existsSync(outDir)) return [];
  const written = readdirSync(outDir).filter((entry) => entry !== PODS_DIR).map((entry) => join(outDir, entry));
  const secrets = [
    { label: "the certification's seed", value: seed },
    ...testIds.flatMap((id) => secretFamily(checkSecret(seed, id)).map((s) => ({ label: `${id}: ${s.label}`, value: s.value }))),
  ];
  return findSecretIn(written, secrets);
}
