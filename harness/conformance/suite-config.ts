// Every repetition count, wait and slack the conformance checks use, in one place, in
// the spirit of Gateway API's TimeoutConfig: the certifying party can override them,
// and the certificate records the values a run used.

export interface SuiteConfig {
  /**
   * Independent tries behind each expectation of an exchange-based check: 44 catch a fault
   * present on 10% of requests with ≥ 99% probability (1 − 0.9^44 ≥ 0.99).
   */
  triesPerExpectation: number;
}

export const DEFAULT_SUITE_CONFIG: Readonly<SuiteConfig> = Object.freeze({
  triesPerExpectation: 44,
});
