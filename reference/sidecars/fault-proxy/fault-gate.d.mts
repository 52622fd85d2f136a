// Types of fault-gate.mjs, for the TypeScript tests that drive it.
import type { IncomingMessage } from "node:http";

export type Pairs = Array<[string, string]>;

/** What the gate reads of fault-proxy's context. */
export interface StartContext {
  isRestart(): boolean;
}

export interface Gate {
  readonly every: number;
  readonly phase: number;
  readonly when: string | undefined;
  isFirstOnConnection(req: IncomingMessage): boolean;
  note(req: IncomingMessage): void;
  activeInThisStart(ctx: StartContext): boolean;
  applies(req: IncomingMessage, status?: number, ctx?: StartContext): boolean;
}

export interface GateableFault {
  name: string;
  restartAware?: boolean;
  ready?(ctx: StartContext, ready: boolean): boolean;
  startup?(ctx: StartContext, plan: unknown): void;
  requestHeaders?(pairs: Pairs, req: IncomingMessage, ctx: unknown): Pairs | undefined;
  requestBody?(req: IncomingMessage, pairs: Pairs, ctx: unknown): { destroy(): void } | undefined;
  response?(
    args: { req: IncomingMessage; status: number; headers: Pairs },
    ctx: unknown,
  ): { status?: number; headers?: Pairs; body?: Buffer; rewrite?: (body: Buffer) => Buffer; transform?: unknown } | undefined;
}

export declare const CONDITIONS: Readonly<Record<string, (req: IncomingMessage, status: number | undefined, gate: Gate, ctx: StartContext) => boolean>>;
export declare function createGate(options: { every?: number; when?: string; phase?: number }): Gate;
export declare function gatedFault(fault: GateableFault, gate: Gate): GateableFault;
export declare function gateObserver(gate: Gate): { name: string; request(req: IncomingMessage): void };
