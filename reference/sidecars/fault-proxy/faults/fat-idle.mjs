// Allocates and touches 200 MiB at start and keeps it: idle memory far over the 64 MiB
// budget in its manifest, but constant (no growth under load).
export const FAT_MIB = 200;

export default {
  name: "fat-idle",
  breaks: "resources.idle-memory",
  setup(ctx) {
    // Filled with a non-zero byte so every page is really resident, not a shared zero page.
    for (let i = 0; i < FAT_MIB; i++) ctx.retained.push(Buffer.alloc(1024 * 1024, 0xfa));
    ctx.log("allocated", { mib: FAT_MIB });
  },
};
