// The logs profile: checks every sidecar with the logs role must pass (docs: README, "What each check tries").
// Stable order: steady shipping, rotations, an outage, unusual lines, then the pod's stop.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { backendOutage } from "./backend-outage.ts";
import { everyLineOnceInOrder } from "./every-line-once-in-order.ts";
import { lastLinesAfterExit } from "./last-lines-after-exit.ts";
import { longAndUnicodeLines } from "./long-and-unicode-lines.ts";
import { rotationCopytruncate } from "./rotation-copytruncate.ts";
import { rotationRenameCreate } from "./rotation-rename-create.ts";

export const logsTests: ConformanceTest[] = [everyLineOnceInOrder, rotationRenameCreate, rotationCopytruncate, backendOutage, longAndUnicodeLines, lastLinesAfterExit];
