// logs.rotation-copytruncate: every line arrives once, in order, across copytruncate
// rotations in the middle of a burst (rotation-check.ts says how). A shipper must notice the
// truncation (the file shrinks, or its first line changes once it has grown again), finish
// what it had not read from the copy, and start the truncated file again at offset 0.
import { rotationCheck } from "./rotation-check.ts";

export const rotationCopytruncate = rotationCheck("copytruncate", {
  id: "logs.rotation-copytruncate",
  faultyFixture: "reference/sidecars/no-truncate-detect.yaml",
  description:
    "A burst of logBurstLines lines is written while the access log is rotated twice by copytruncate (copied to access.log.1, truncated in place, " +
    "with no line written in between): every line of the burst's range arrives once, in order, intact, within the policy's logs.deliveryDelayMs.",
});
