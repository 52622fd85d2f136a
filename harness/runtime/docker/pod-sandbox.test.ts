import { describe, expect, it } from "vitest";
import { stripStreamHeaders } from "./pod-sandbox.ts";

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("stripStreamHeaders", () => {
  it("keeps the text of stdout and stderr frames in order, and ignores a truncated tail", () => {
    const raw = Buffer.concat([frame(1, "pod-pause: "), frame(2, "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied\n"), Buffer.from([1, 0, 0])]);
    expect(stripStreamHeaders(raw)).toBe("pod-pause: iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied\n");
  });
});
