// Progress while a run works: a bar on a terminal (cli-progress), one line per step
// otherwise (CI logs), both on stderr so stdout carries only results.
import cliProgress from "cli-progress";

export interface Progress {
  start(total: number, label: string): void;
  advance(label: string): void;
  /** A line that must stay visible (a warning, a finished trial in CI). */
  log(line: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements Progress {
  // MultiBar (with one bar) because only it can print lines above a live bar.
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  private done = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      { stream, format: " {bar} {value}/{total} | eta {eta_formatted} | {label}", hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, label: string): void {
    this.done = 0;
    this.bar = this.bars.create(total, 0, { label });
  }

  advance(label: string): void {
    this.bar?.update(++this.done, { label });
  }

  log(line: string): void {
    this.bars.log(`${line}\n`);
  }

  stop(): void {
    this.bars.stop();
  }
}

class LineProgress implements Progress {
  private total = 0;
  private done = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(total: number, label: string): void {
    this.total = total;
    this.done = 0;
    this.stream.write(`[0/${total}] ${label}\n`);
  }

  advance(label: string): void {
    this.stream.write(`[${++this.done}/${this.total}] ${label}\n`);
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}
