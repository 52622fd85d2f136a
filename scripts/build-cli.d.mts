// Types of scripts/build-cli.mjs for the TypeScript that imports it (its test).
export declare const CLI_ENTRY_POINTS: string[];
export declare const DIST_DIR: string;
export declare const BUILD_INFO_FILE: string;
export declare const METAFILE: string;
export declare function freshCliBundle(projectRoot?: string): string | null;
export declare function buildCli(options?: { say?: (line: string) => void }): Promise<number>;
export declare function ensureCliBuild(options?: { say?: (line: string) => void }): Promise<void>;
