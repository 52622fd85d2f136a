// Types of syslog-shipper.mjs, for the TypeScript tests that drive it.
export interface ShipperOptions {
  host: string;
  port: number;
  whenDown: "buffer" | "drop";
  batchMs: number;
  batchBytes: number;
  maxBufferBytes: number;
  reconnectMs: number;
  onEvent: (event: string, fields?: object) => void;
  faults?: { duplicateOnReconnect?: boolean };
}

export class SyslogShipper {
  constructor(options: ShipperOptions);
  readonly connected: boolean;
  readonly stats: { queued: number; shipped: number; dropped: number; droppedWhileDown: number; droppedOverflow: number; connects: number; disconnects: number; resent: number };
  start(): void;
  enqueue(line: Buffer): void;
  drain(deadlineMs: number): Promise<{ unsent: number }>;
  abort(): void;
}
