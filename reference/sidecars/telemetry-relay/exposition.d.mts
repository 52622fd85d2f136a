// Types of exposition.mjs, for the TypeScript tests that drive it.
export declare const CONTENT_TYPE: string;
export declare function renderExposition(input: { primaryBody: string; stats: { scrapesOk: number; scrapesFailed: number }; invalid?: boolean }): string;
