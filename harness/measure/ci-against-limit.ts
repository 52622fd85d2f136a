// One rule for every "is this figure within that limit?" the reports answer (sidecar budgets,
// claims in a certificate, scenario thresholds): with a 95% CI, within only when the whole
// CI is at or below the limit, above only when all of it is over, and straddling otherwise
// (more rounds would tell); a figure without a CI is compared as it is.
export type LimitSide = "within" | "above" | "straddles";

export function ciAgainstLimit(figure: { measured: number; ci95?: { low: number; high: number } | undefined }, limit: number): LimitSide {
  if (!figure.ci95) return figure.measured <= limit ? "within" : "above";
  return figure.ci95.high <= limit ? "within" : figure.ci95.low > limit ? "above" : "straddles";
}
