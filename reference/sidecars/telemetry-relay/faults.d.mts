// Types of faults.mjs, for the TypeScript tests that drive it.
export declare const FAULT_NAMES: readonly string[];

export interface DropGate {
  readonly every: number;
  phases(): Record<string, number>;
  drops(signal: string): boolean;
}
export declare function createDropGate(every: number, phases?: Record<string, number>): DropGate;

export interface OutageGrowth {
  readonly held: Buffer[];
  onDown(): void;
  onUp(): void;
}
export declare function createOutageGrowth(mibPerSecond: number, log: (event: string, extra: Record<string, unknown>) => void): OutageGrowth;
