// Types of line-faults.mjs, for the TypeScript tests that drive it.
export const SPLIT_BYTES: number;
export const FAULTS: Record<string, string>;
export function lineFaults(faults: ReadonlySet<string>, faultEvery: number, phase?: number): (line: Buffer) => Buffer[];
