// vegeta's results as `vegeta encode --to json` writes them (lib/results.go, v12.13.0):
// one JSON object per line, in completion order — seq, timestamp (RFC 3339 with
// nanoseconds: when vegeta began the request), latency (ns, request begun → response body
// read), code (0 when no response), error ("" when none; vegeta leaves it empty for 3xx).

export interface VegetaResult {
  seq: number;
  /** The timestamp split so that nanoseconds survive (epoch ns do not fit a double). */
  timestamp: { epochSec: number; nanos: number };
  latencyNs: number;
  code: number;
  error: string;
  url: string;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

export function parseVegetaTimestamp(text: string): { epochSec: number; nanos: number } {
  const match = TIMESTAMP.exec(text);
  const epochMs = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || !Number.isFinite(epochMs)) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
  return { epochSec: epochMs / 1000, nanos: Number((match[2] ?? "").padEnd(9, "0")) };
}

/** a − b in ns; exact for differences below 2^53 ns (104 days). */
export function timestampDiffNs(a: VegetaResult["timestamp"], b: VegetaResult["timestamp"]): number {
  return (a.epochSec - b.epochSec) * 1e9 + (a.nanos - b.nanos);
}

/** Parses the JSON lines; `source` names the file in errors. */
export function parseVegetaResults(text: string, source: string): VegetaResult[] {
  const results: VegetaResult[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    const where = `${source}:${index + 1}`;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${where}: not a JSON result line: ${(error as Error).message}`);
    }
    const field = <T>(name: string, check: (value: unknown) => value is T, expected: string): T => {
      const value = raw?.[name];
      if (!check(value)) throw new Error(`${where}: field ${name}: expected ${expected}, got ${JSON.stringify(value)}`);
      return value;
    };
    const wholeNumber = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
    const string = (value: unknown): value is string => typeof value === "string";
    let timestamp: VegetaResult["timestamp"];
    try {
      timestamp = parseVegetaTimestamp(field("timestamp", string, "a string"));
    } catch (error) {
      throw new Error(`${where}: field timestamp: ${(error as Error).message}`);
    }
    results.push({
      seq: field("seq", wholeNumber, "a whole number"),
      timestamp,
      latencyNs: field("latency", wholeNumber, "a whole number of ns"),
      code: field("code", wholeNumber, "an HTTP status or 0"),
      error: field("error", string, "a string"),
      url: field("url", string, "a string"),
    });
  }
  return results;
}

/**
 * A result's error kind, as the harness's own loop names them (load-errors.ts): the
 * status for a response that is not 2xx, "timeout", "connection", or "other:<what>" —
 * vegeta reports Go's error text, not a code, so the kinds are read from the text. Null
 * when the request succeeded (2xx, no error).
 */
export function vegetaErrorKind(result: Pick<VegetaResult, "code" | "error">): string | null {
  if (result.code >= 200 && result.code < 300 && result.error === "") return null;
  // A response arrived (vegeta writes its status line as the error): the status, as ours.
  if (result.code > 0 && (result.error === "" || /^\d{3}\b/.test(result.error))) return String(result.code);
  const text = result.error;
  // net/http's Client.Timeout (vegeta -timeout), a context deadline, a socket deadline.
  if (/Client\.Timeout exceeded|context deadline exceeded|i\/o timeout|timeout awaiting/i.test(text)) return "timeout";
  if (/connection refused|connection reset|broken pipe|unexpected EOF|\bEOF\b|server closed idle connection|no such host|network is unreachable|closed network connection|dial tcp/i.test(text)) {
    return "connection";
  }
  // Go errors read `<op> "<url>": <cause>`: the cause without addresses and numbers keeps the kinds few.
  const cause = text.slice(text.lastIndexOf(": ") + 1).trim().replace(/[\d.:[\]]+/g, "#").slice(0, 60);
  return `other:${cause || (result.code > 0 ? String(result.code) : "unknown")}`;
}
