// Types of the fault registry, for TypeScript tests that read it.
export interface FaultModule {
  /** The fault's name: the --fault argument and its fixture manifest's metadata.name. */
  readonly name: string;
  /** Id of the conformance test that must fail on this fault's fixture. */
  readonly breaks: string;
  readonly restartAware?: boolean;
}

export declare const FAULTS: Readonly<Record<string, FaultModule>>;
export declare function faultNames(): string[];
