// Follows one log file the way a log shipper must: from its first byte, line by line,
// through both kinds of logrotate rotation, without losing or repeating a line.
//
// - rename + create: the file we read is renamed to <path>.1 and a new <path> appears
//   (another inode). Our descriptor still points at the old file: read it to its end
//   first, then any file rotated after it (two rotations between two polls), then the
//   new <path> from offset 0.
// - copytruncate: <path> is copied to <path>.1 and truncated in place (same inode). Seen
//   as the file shrinking below our offset, or its first line changing (it may have grown
//   past our offset again before we look). What we had not read yet went with the copy:
//   finish it from <path>.1 (found by its first line, our fingerprint), then <path> from 0.
//
// Synchronous fs calls: one poll reads at most maxReadBytes, and a sidecar with one file
// has nothing else to do meanwhile. Lines are Buffers without their "\n", bytes as written.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

const FINGERPRINT_MAX_BYTES = 1024;
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * @typedef {{ onLine: (line: Buffer) => void, onEvent: (event: string, fields?: object) => void,
 *   keepRotated?: number, maxReadBytes?: number,
 *   faults?: { loseOnRename?: boolean, noTruncateDetect?: boolean } }} FollowerOptions
 */

export class FileFollower {
  /** @param {string} path @param {FollowerOptions} options */
  constructor(path, options) {
    this.path = path;
    this.onLine = options.onLine;
    this.onEvent = options.onEvent;
    this.keepRotated = options.keepRotated ?? 3;
    this.maxReadBytes = options.maxReadBytes ?? 8 * 1024 * 1024;
    this.faults = options.faults ?? {};
    /** @type {{ fd: number, ino: number, pos: number, fingerprint: Buffer | null } | null} */
    this.current = null;
    this.partial = Buffer.alloc(0);
    this.stats = { lines: 0, bytes: 0, renames: 0, truncations: 0, lostTrack: 0 };
  }

  /** One pass: notices rotation or truncation, then reads to the end (at most maxReadBytes). True when more is left to read. */
  poll() {
    if (this.current === null && !this.open()) return false;
    const onDisk = statOrNull(this.path);
    if (onDisk !== null && onDisk.ino !== this.current.ino) {
      // lose-on-rename: follows the descriptor only and never opens the new file.
      if (!this.faults.loseOnRename) this.followRename();
    } else if (!this.faults.noTruncateDetect && this.truncated()) {
      this.followTruncation();
    }
    return this.readCurrent(this.maxReadBytes);
  }

  /** Reads everything there is now (SIGTERM: the file to its end before the last flush). */
  drain(maxPolls = 1_000) {
    for (let i = 0; i < maxPolls; i++) if (!this.poll()) return;
  }

  close() {
    if (this.current !== null) closeSync(this.current.fd);
    this.current = null;
  }

  open() {
    let fd;
    try {
      fd = openSync(this.path, "r");
    } catch (error) {
      if (error.code === "ENOENT") return false; // the primary has not created it yet
      throw error;
    }
    this.current = { fd, ino: fstatSync(fd).ino, pos: 0, fingerprint: null };
    this.onEvent("following", { file: this.path, ino: this.current.ino });
    return true;
  }

  followRename() {
    const old = this.current;
    this.readRest(old);
    // Rotated after ours and before the new file: newer names have smaller suffixes.
    const rotated = this.rotatedFiles();
    const ours = rotated.findIndex((file) => file.ino === old.ino);
    if (ours < 0) {
      this.stats.lostTrack++;
      this.onEvent("lost-track", { why: "the renamed file is not among the rotated files", ino: old.ino });
    }
    for (let index = ours - 1; index >= 0; index--) this.readWhole(rotated[index].path);
    closeSync(old.fd);
    this.current = null;
    this.endPartial();
    this.stats.renames++;
    this.onEvent("rotation", { mode: "rename", finishedIno: old.ino, between: Math.max(0, ours) });
    this.open();
  }

  truncated() {
    const { fd, pos, fingerprint } = this.current;
    if (fstatSync(fd).size < pos) return true;
    if (fingerprint === null) return false;
    const head = Buffer.alloc(fingerprint.length);
    const got = readSync(fd, head, 0, head.length, 0);
    return got < head.length || !head.equals(fingerprint);
  }

  followTruncation() {
    const cur = this.current;
    // Our content's copy: the rotated file that starts with our first line.
    const rotated = this.rotatedFiles();
    const copy = cur.fingerprint === null ? -1 : rotated.findIndex((file) => file.size >= cur.pos && startsWith(file.path, cur.fingerprint));
    if (copy >= 0) {
      this.readFrom(rotated[copy].path, cur.pos);
      for (let index = copy - 1; index >= 0; index--) this.readWhole(rotated[index].path);
    } else if (cur.pos > 0) {
      this.stats.lostTrack++;
      this.onEvent("lost-track", { why: "no rotated copy starts with our first line: what was not read yet is gone", pos: cur.pos });
    }
    this.endPartial();
    this.stats.truncations++;
    this.onEvent("rotation", { mode: "truncate", previousPos: cur.pos, fromCopy: copy >= 0 });
    cur.pos = 0;
    cur.fingerprint = null;
  }

  /** <path>.1 … <path>.<keep> that exist, newest first. */
  rotatedFiles() {
    const files = [];
    for (let index = 1; index <= this.keepRotated; index++) {
      const path = `${this.path}.${index}`;
      const st = statOrNull(path);
      if (st !== null) files.push({ path, ino: st.ino, size: st.size });
    }
    return files;
  }

  readCurrent(budget) {
    const cur = this.current;
    const { read, more } = this.readFd(cur.fd, cur.pos, budget);
    cur.pos += read;
    // Once the first line is complete; until then a truncation shows only as the file shrinking.
    if (cur.fingerprint === null && cur.pos > 0) cur.fingerprint = readFingerprint(cur.fd);
    return more;
  }

  readRest(cur) {
    cur.pos += this.readFd(cur.fd, cur.pos, Number.POSITIVE_INFINITY).read;
  }

  readFrom(path, offset) {
    const fd = openSync(path, "r");
    try {
      this.readFd(fd, offset, Number.POSITIVE_INFINITY);
    } finally {
      closeSync(fd);
    }
  }

  readWhole(path) {
    this.readFrom(path, 0);
    this.endPartial();
  }

  /** Reads [offset, end of file) up to `budget` bytes, emitting complete lines; keeps an unterminated tail in `partial`. */
  readFd(fd, offset, budget) {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let read = 0;
    while (read < budget) {
      const got = readSync(fd, chunk, 0, Math.min(chunk.length, budget - read), offset + read);
      if (got === 0) return { read, more: false };
      read += got;
      this.split(chunk.subarray(0, got));
    }
    return { read, more: true };
  }

  split(bytes) {
    let data = this.partial.length > 0 ? Buffer.concat([this.partial, bytes]) : bytes;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      this.emit(data.subarray(start, nl));
      start = nl + 1;
    }
    // A copy: `bytes` is the reused read chunk.
    this.partial = Buffer.from(data.subarray(start));
  }

  /** A line the writer never finished (its file was rotated away): shipped as it is rather than glued to the next file's first line. */
  endPartial() {
    if (this.partial.length === 0) return;
    const rest = this.partial;
    this.partial = Buffer.alloc(0);
    this.onEvent("unterminated-line", { bytes: rest.length });
    this.emit(rest);
  }

  emit(line) {
    this.stats.lines++;
    this.stats.bytes += line.length + 1;
    this.onLine(Buffer.from(line));
  }
}

function statOrNull(path) {
  try {
    return statSync(path);
  } catch (error) {
    if (error.code === "ENOENT") return null;
    throw error;
  }
}

/** The file's first line with its "\n" (at most FINGERPRINT_MAX_BYTES): unique per file, since every line carries its own seq. */
function readFingerprint(fd) {
  const head = Buffer.alloc(FINGERPRINT_MAX_BYTES);
  const got = readSync(fd, head, 0, head.length, 0);
  const nl = head.subarray(0, got).indexOf(10);
  return nl >= 0 ? Buffer.from(head.subarray(0, nl + 1)) : null;
}

function startsWith(path, prefix) {
  let fd;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(prefix.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(prefix);
  } finally {
    closeSync(fd);
  }
}
