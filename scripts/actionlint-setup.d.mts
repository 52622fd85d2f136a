// Types of scripts/actionlint-setup.mjs for the TypeScript that imports it (the workflow test).
export declare const ACTIONLINT_VERSION: string;
export declare const ACTIONLINT_RELATIVE_PATH: string;
export declare const SHELLCHECK_PATH: string;
export declare function ensureActionlint(options: { root: string; say: (line: string) => void }): void;
