// Holds anonymous memory from the start and keeps it: idle memory far over the policy's
// 128 MiB default, but constant (no growth under load). --memory-mib sets the level its
// anonymous memory (RssAnon: what a container's cgroup charges it) is topped up to, so
// boundary fixtures can sit just inside or just past a policy's bound.
import { readFileSync } from "node:fs";

export const FAT_MIB = 256;
const MIB = 1024 * 1024;

/** The process's anonymous resident memory in MiB (Linux); its whole RSS where /proc has no RssAnon line. */
export function anonymousMiB() {
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / MIB;
}

export default {
  name: "fat-idle",
  breaks: "resources.idle-memory",
  setup(ctx) {
    const targetMiB = ctx.options.memoryMiB ?? FAT_MIB;
    // Filled with a non-zero byte so every page is really resident, not a shared zero page.
    while (anonymousMiB() < targetMiB) ctx.retained.push(Buffer.alloc(MIB, 0xfa));
    ctx.log("allocated", { mib: ctx.retained.length, anonymousMiB: Math.round(anonymousMiB()) });
  },
};
