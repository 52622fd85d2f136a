// Types of file-follower.mjs, for the TypeScript tests that drive it.
export interface FollowerOptions {
  onLine: (line: Buffer) => void;
  onEvent: (event: string, fields?: object) => void;
  keepRotated?: number;
  maxReadBytes?: number;
  faults?: { loseOnRename?: boolean; noTruncateDetect?: boolean };
}

export class FileFollower {
  constructor(path: string, options: FollowerOptions);
  readonly stats: { lines: number; bytes: number; renames: number; truncations: number; lostTrack: number };
  /** One pass; true when more is left to read. */
  poll(): boolean;
  drain(maxPolls?: number): void;
  close(): void;
}
