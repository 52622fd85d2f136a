// Types of fault-gate.mjs, for the TypeScript tests that drive it.
import type { IncomingMessage } from "node:http";

export type Pairs = Array<[string, string]>;

export interface Gate {
  readonly every: number;
  readonly phase: number;
  readonly when: string | undefined;
  isFirstOnConnection(req: IncomingMessage): boolean;
  note(req: IncomingMessage): void;
  applies(req: IncomingMessage, status?: number): boolean;
}

export interface GateableFault {
  name: string;
  requestHeaders?(pairs: Pairs, req: IncomingMessage, ctx: unknown): Pairs | undefined;
  requestBody?(req: IncomingMessage, pairs: Pairs, ctx: unknown): { destroy(): void } | undefined;
  response?(
    args: { req: IncomingMessage; status: number; headers: Pairs },
    ctx: unknown,
  ): { status?: number; headers?: Pairs; body?: Buffer; rewrite?: (body: Buffer) => Buffer; transform?: unknown } | undefined;
}

export declare const CONDITIONS: Readonly<Record<string, (req: IncomingMessage, status: number | undefined, gate: Gate) => boolean>>;
export declare function createGate(options: { every?: number; when?: string; phase?: number }): Gate;
export declare function gatedFault(fault: GateableFault, gate: Gate): GateableFault;
export declare function gateObserver(gate: Gate): { name: string; request(req: IncomingMessage): void };
