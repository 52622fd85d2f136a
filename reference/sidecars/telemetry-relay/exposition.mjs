// The relay's Prometheus exposition (text format 0.0.4) in `scrape` mode: the primary's last
// scraped /metrics as it was, followed by the relay's own counters. The invalid-exposition
// fault splits the relay's own family in two, HELP and TYPE repeated: Prometheus' scrape
// parser takes that, the text-format parser (promtool check metrics, client libraries)
// rejects it ("second HELP line for metric name").

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The relay's own family: HELP, TYPE and a series per scrape result. */
function ownFamily(stats, results = ["ok", "failed"]) {
  return [
    "# HELP telemetry_relay_scrapes_total Scrapes of the primary's /metrics by the relay, by result.",
    "# TYPE telemetry_relay_scrapes_total counter",
    ...results.map((result) => `telemetry_relay_scrapes_total{result="${result}"} ${result === "ok" ? stats.scrapesOk : stats.scrapesFailed}`),
  ];
}

/** @param {{ primaryBody: string, stats: { scrapesOk: number, scrapesFailed: number }, invalid?: boolean }} input */
export function renderExposition({ primaryBody, stats, invalid = false }) {
  const primary = primaryBody === "" || primaryBody.endsWith("\n") ? primaryBody : `${primaryBody}\n`;
  // The fault: the family split in two, each part with its own HELP and TYPE, as two
  // collectors registering one name would render it (no sample repeated, so Prometheus
  // ingests every series).
  const lines = invalid ? [...ownFamily(stats, ["ok"]), ...ownFamily(stats, ["failed"])] : ownFamily(stats);
  return `${primary}${lines.join("\n")}\n`;
}
