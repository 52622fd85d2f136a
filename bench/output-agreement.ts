// Are a client's answers the same everywhere? tritonclient sent the same inputs to each
// primary directly and through each proxy (bench/tritonclient_outputs.py reports what came
// back); this judges them:
// - through a proxy, the answer must be byte for byte the same primary's direct answer: a
//   proxy forwards bodies, it does not re-encode them;
// - an identity model's direct answer must be the input itself;
// - across primaries, identity answers are byte-identical, and the MLP's within 1e-5
//   relative (the two primaries run numpy builds that may round the last bit differently).
// A proxy that cannot carry a protocol shows as "no answer" with the client's error, which
// is neither a pass nor a mismatch.

/** One line of tritonclient_outputs.py. */
export interface OutputRow {
  target: string;
  case: string;
  model: string;
  protocol: string;
  input_sha256: string;
  ok: boolean;
  error?: string;
  datatype?: string;
  shape?: number[];
  sha256?: string;
  values?: number[];
}

export type Judgement = { verdict: "identical" | "same within 1e-5" } | { verdict: "differs"; why: string } | { verdict: "no answer"; why: string };

const RELATIVE_TOLERANCE = 1e-5;
const ABSOLUTE_TOLERANCE = 1e-7;

/** `row` against `reference` (a direct answer). Byte-identical is asked of proxies; `closeEnough` lets values differ within tolerance. */
export function judge(row: OutputRow, reference: OutputRow, options: { closeEnough?: boolean } = {}): Judgement {
  if (!row.ok) return { verdict: "no answer", why: row.error ?? "no answer" };
  if (!reference.ok) return { verdict: "no answer", why: `the reference ${reference.target} gave none: ${reference.error ?? ""}` };
  if (row.datatype !== reference.datatype || JSON.stringify(row.shape) !== JSON.stringify(reference.shape)) {
    return { verdict: "differs", why: `${row.datatype}[${row.shape?.join("×")}] where ${reference.target} answered ${reference.datatype}[${reference.shape?.join("×")}]` };
  }
  if (row.sha256 === reference.sha256) return { verdict: "identical" };
  if (options.closeEnough && row.values && reference.values && row.values.length === reference.values.length) {
    const worst = row.values.reduce((max, value, i) => {
      const expected = reference.values![i]!;
      const excess = Math.abs(value - expected) - (ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.abs(expected));
      return Math.max(max, excess);
    }, Number.NEGATIVE_INFINITY);
    if (worst <= 0) return { verdict: "same within 1e-5" };
  }
  return { verdict: "differs", why: `sha256 ${row.sha256?.slice(0, 12)} where ${reference.target} answered ${reference.sha256?.slice(0, 12)}` };
}

/** An identity model must answer its input: a direct answer that is not is wrong at the source. */
export function identityProblem(row: OutputRow): string | null {
  if (!row.ok || !row.model.startsWith("identity_")) return null;
  return row.sha256 === row.input_sha256 ? null : `${row.target} ${row.case}: the identity model did not answer its input (sha256 ${row.sha256?.slice(0, 12)}, sent ${row.input_sha256.slice(0, 12)})`;
}

export function describe(judgement: Judgement): string {
  return "why" in judgement ? `${judgement.verdict} (${judgement.why})` : judgement.verdict;
}
