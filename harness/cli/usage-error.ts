/** Invalid input that is not a manifest (a flag, a missing results file): exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
