// The faults of log-follower, by name, and the ones that act on lines as they are shipped.
// Each breaks one logs rule, on the lines or at the moment that rule is about, and nothing
// else: inference requests' lines only (drop-lines), non-ASCII lines only (latin1), long lines only
// (split-long-lines), a rename, a truncation, a SIGTERM or a reconnection.

/** Where split-long-lines cuts: the 16 KiB line buffer many shippers have. */
export const SPLIT_BYTES = 16 * 1024;
/** An inference request's line: `"path":"/v2/models/<model>/infer"`, and nothing else of the primary's lines ends a string so. */
const INFER_PATH_END = Buffer.from('/infer"');

export const FAULTS = {
  "drop-lines": "drops the lines of inference requests (a path ending in /infer), one in every --fault-every (default: all)",
  "exit-without-draining": "on SIGTERM exits at once: neither reads the file to its end nor sends what it holds",
  "lose-on-rename": "follows its open descriptor only: after a rename it keeps reading the old file and never opens the new one",
  "no-truncate-detect": "does not notice a copytruncate: waits until the file is past its old offset again and reads on from there",
  "split-long-lines": `cuts lines longer than ${SPLIT_BYTES} bytes into ${SPLIT_BYTES}-byte messages`,
  latin1: "decodes each line as Latin-1 and sends it re-encoded as UTF-8: every non-ASCII byte becomes two",
  "duplicate-on-reconnect": "after a lost connection comes back, first resends the last batch it had written before",
};

/** The line transformations of the faults that act on lines; [] of lines means dropped. */
export function lineFaults(faults, faultEvery, phase = Math.floor(Math.random() * faultEvery)) {
  let inferLines = phase;
  return (line) => {
    if (faults.has("drop-lines") && line.includes(INFER_PATH_END)) {
      inferLines++;
      if (inferLines % faultEvery === 0) return [];
    }
    let out = line;
    if (faults.has("latin1")) out = Buffer.from(out.toString("latin1"), "utf8");
    if (faults.has("split-long-lines") && out.length > SPLIT_BYTES) {
      const pieces = [];
      for (let start = 0; start < out.length; start += SPLIT_BYTES) pieces.push(out.subarray(start, start + SPLIT_BYTES));
      return pieces;
    }
    return [out];
  };
}

