// Byte-level comparison for conformance evidence: where two bodies first differ, with
// a few bytes of hex (and printable text) around it, so a failure shows the damage.
import { createHash } from "node:crypto";

export interface ByteDifference {
  /** First offset where the bodies differ (= the shorter length when one is a prefix of the other). */
  offset: number;
  expectedLength: number;
  actualLength: number;
  /** Offset of the first byte shown in the context excerpts. */
  contextStart: number;
  /** Bytes contextStart.. of each body as hex pairs; the differing byte is in [brackets]. */
  expectedHex: string;
  actualHex: string;
  /** The same bytes as text, non-printable bytes as "." (JSON bodies read better this way). */
  expectedText: string;
  actualText: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** null when the bodies are identical. */
export function firstDifference(expected: Uint8Array, actual: Uint8Array, contextBytes = 16): ByteDifference | null {
  const shorter = Math.min(expected.length, actual.length);
  let offset = shorter;
  // Compare in 64 KiB slices first: 16 MiB bodies must not cost a byte-by-byte JS loop when equal.
  const sliceBytes = 65_536;
  for (let start = 0; start < shorter; start += sliceBytes) {
    const end = Math.min(start + sliceBytes, shorter);
    if (Buffer.compare(expected.subarray(start, end), actual.subarray(start, end)) === 0) continue;
    for (let i = start; i < end; i++) {
      if (expected[i] !== actual[i]) {
        offset = i;
        break;
      }
    }
    break;
  }
  if (offset === shorter && expected.length === actual.length) return null;
  const contextStart = Math.max(0, offset - contextBytes);
  return {
    offset,
    expectedLength: expected.length,
    actualLength: actual.length,
    contextStart,
    expectedHex: hexExcerpt(expected, contextStart, offset, contextBytes),
    actualHex: hexExcerpt(actual, contextStart, offset, contextBytes),
    expectedText: textExcerpt(expected, contextStart, offset + contextBytes + 1),
    actualText: textExcerpt(actual, contextStart, offset + contextBytes + 1),
  };
}

function hexExcerpt(bytes: Uint8Array, from: number, marked: number, after: number): string {
  const parts: string[] = [];
  const end = Math.min(bytes.length, marked + after + 1);
  for (let i = from; i < end; i++) {
    const hex = (bytes[i] as number).toString(16).padStart(2, "0");
    parts.push(i === marked ? `[${hex}]` : hex);
  }
  if (marked >= bytes.length) parts.push("[end]");
  return parts.join(" ");
}

function textExcerpt(bytes: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < Math.min(to, bytes.length); i++) {
    const byte = bytes[i] as number;
    text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".";
  }
  return text;
}

/** One line for a failure message, e.g. "bodies differ at byte 12 of 236/240: expected … 3a [31] 2e …, got … 3a [20] 31 …". */
export function formatDifference(diff: ByteDifference): string {
  const lengths =
    diff.expectedLength === diff.actualLength ? `${diff.expectedLength} bytes` : `expected ${diff.expectedLength} bytes, got ${diff.actualLength}`;
  return (
    `first difference at byte ${diff.offset} (${lengths}); from byte ${diff.contextStart}: ` +
    `expected ${diff.expectedHex} ${JSON.stringify(diff.expectedText)}, got ${diff.actualHex} ${JSON.stringify(diff.actualText)}`
  );
}
