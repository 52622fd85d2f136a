// Types of export-queue.mjs, for the TypeScript tests that drive it.
export interface QueuedExport {
  signal: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SendOutcome = "delivered" | "rejected" | "failed";
export declare const Outcome: Readonly<{ delivered: "delivered"; rejected: "rejected"; failed: "failed" }>;

export interface QueueStats {
  accepted: number;
  refusedFull: number;
  forwarded: number;
  rejected: number;
  droppedWhileDown: number;
  attempts: number;
  failures: number;
  lostAtExit: number;
}

export interface ExportQueueOptions {
  send(item: QueuedExport): Promise<SendOutcome>;
  whenDown: "buffer" | "drop";
  maxBytes: number;
  batchMs: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  onEvent?(event: string, extra: Record<string, unknown>): void;
  hooks?: { onDown?(queue: ExportQueue): void; onUp?(queue: ExportQueue): void };
}

export declare class ExportQueue {
  constructor(options: ExportQueueOptions);
  readonly length: number;
  readonly bytes: number;
  readonly backendDown: boolean;
  readonly stats: QueueStats;
  offer(item: QueuedExport): boolean;
  discardAll(reason: string): number;
  drain(): Promise<boolean>;
  flush(deadlineMs: number): Promise<number>;
}
