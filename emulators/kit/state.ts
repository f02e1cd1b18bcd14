// The platform's memory. A real platform keeps its accounts, quantities and id counters when our
// process restarts; an emulator that forgot them would hand out transaction ids StockClerk has
// already seen (and rightly drops as duplicates). So an emulator given a state file saves there:
// debounced after each change, written atomically (a temp file renamed over the old one, so a
// crash leaves the previous or the next state, never half of one), and flushed on close.
// Without a file (tests, benchmarks) state lives in memory only.
import fs from 'node:fs';
import path from 'node:path';

export const STATE_FORMAT = 1;

export class StateFile {
  readonly path: string;
  private readonly delayMs: number;
  private readonly snapshot: () => unknown;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(file: string, snapshot: () => unknown, delayMs = 200) {
    this.path = path.resolve(file);
    this.snapshot = snapshot;
    this.delayMs = delayMs;
  }

  /**
   * What the file holds, or null when there is none. A file that does not parse is moved aside
   * (`<file>.corrupt-<ms>`) and reported, so the platform starts empty instead of not at all.
   */
  read(): unknown {
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      fs.renameSync(this.path, aside);
      process.emitWarning(`emulator state ${this.path} is not JSON; moved to ${aside}, starting empty`);
      return null;
    }
  }

  /** Something changed: save soon (many changes in a burst make one write). */
  touch(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.save().catch((err: unknown) => process.emitWarning(`emulator state ${this.path} not saved: ${String(err)}`));
    }, this.delayMs);
  }

  /** Writes now if anything changed since the last write, and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.save();
  }

  private save(): Promise<void> {
    // One write at a time, in order; the snapshot is taken when the write starts, so it holds
    // every change made before it.
    this.writing = this.writing
      .catch(() => {})
      .then(async () => {
        if (!this.dirty) return;
        this.dirty = false;
        const text = JSON.stringify(this.snapshot());
        const tmp = `${this.path}.${process.pid}.${++this.seq}.tmp`;
        try {
          await fs.promises.mkdir(path.dirname(this.path), { recursive: true });
          // Accounts hold credentials and webhook secrets: owner-only, like the rest of DATA_DIR's secrets.
          await fs.promises.writeFile(tmp, text, { mode: 0o600 });
          await fs.promises.rename(tmp, this.path);
        } catch (err) {
          this.dirty = true;
          await fs.promises.rm(tmp, { force: true });
          throw err;
        }
      });
    return this.writing;
  }
}
