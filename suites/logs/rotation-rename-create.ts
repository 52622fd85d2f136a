// logs.rotation-rename-create: every line arrives once, in order, across rename + create
// rotations in the middle of a burst (rotation-check.ts says how). A shipper must finish
// the renamed file (its open descriptor still points at it) before following the new one.
import { rotationCheck } from "./rotation-check.ts";

export const rotationRenameCreate = rotationCheck("rename", {
  id: "logs.rotation-rename-create",
  faultyFixture: "reference/sidecars/lose-on-rename.yaml",
  description:
    "A burst of logBurstLines lines is written while the access log is rotated twice by rename + create (access.log → access.log.1, a new access.log): " +
    "every line of the burst's range arrives once, in order, intact, within the policy's logs.deliveryDelayMs.",
});
