import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Calls back when the config file's content changes. It watches the file's directory, not the
 * file: editors save by writing a new file and renaming it over the old one, and Kubernetes
 * updates a mounted ConfigMap by swapping a symlink, and a watch on the old file would see
 * neither. Events are debounced, and a callback only happens when the text really differs from
 * the last text seen, so a burst of events makes one reload.
 */
export class ConfigFileWatch {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastText: string | null;
  private readonly path: string;

  constructor(
    path: string,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.path = resolve(path);
    this.lastText = readText(this.path);
  }

  start(): void {
    // Not persistent: the watch alone never keeps the process alive.
    this.watcher = watch(dirname(this.path), { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) => this.onError(error));
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The file watched, for log lines. */
  get file(): string {
    return basename(this.path);
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // Mid-rename the file can be missing for a moment; the rename's own event comes next.
      const text = readText(this.path);
      if (text === null || text === this.lastText) return;
      this.lastText = text;
      this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
