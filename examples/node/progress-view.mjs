/**
 * Terminal output of upload-folder: on a TTY, a live block (overall bar, then one bar per active
 * file, with speed and time left) redrawn in place, with finished files printed above it; on
 * anything else (a pipe, a log file), plain lines: state changes and every 10 % of progress.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
const ACTIVE = new Set(['hashing', 'initiating', 'uploading', 'assembling', 'scanning']);
const MAX_FILE_LINES = 6;

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds as `m:ss` or `h:mm:ss`; `--:--` when unknown. */
export function formatDuration(seconds) {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const pad = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function bar(fraction, width) {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

function percent(fraction) {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`.padStart(4);
}

/** Cuts `text` to `width` columns, keeping its end (the file name) visible. */
function fit(text, width) {
  return text.length <= width ? text.padEnd(width) : `…${text.slice(text.length - width + 1)}`;
}

/** Bytes done (confirmed + in flight) of an upload. */
function doneBytes(upload) {
  const { confirmedBytes, inFlightBytes } = upload.progress;
  return Math.min(upload.size, confirmedBytes + inFlightBytes);
}

export class ProgressView {
  /** @param {{ out?: NodeJS.WriteStream, totalBytes: number, totalFiles: number }} opts */
  constructor({ out = process.stdout, totalBytes, totalFiles }) {
    this.out = out;
    this.tty = Boolean(out.isTTY);
    this.totalBytes = totalBytes;
    this.totalFiles = totalFiles;
    /** @type {import('@file-uploader/sdk').Upload[]} */
    this.uploads = [];
    this.drawnLines = 0;
    this.lastTenth = -1;
    this.timer = undefined;
  }

  /** Follows an upload until it ends. */
  track(upload) {
    this.uploads.push(upload);
  }

  /** Starts redrawing (TTY) or reporting (plain). */
  start() {
    const every = this.tty ? 100 : 1000;
    this.timer = setInterval(() => this.render(), every);
  }

  /** A line above the live block (or a plain line). */
  line(text) {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  /** An upload changed state. */
  stateChanged(upload) {
    const state = upload.state;
    if (state === 'ready') {
      this.line(`${this.tty ? '✔' : 'ready:'} ${upload.name} (${formatBytes(upload.size)})`);
    } else if (state === 'rejected' || state === 'failed') {
      const reason = upload.error ? `${upload.error.code}: ${upload.error.message}` : '';
      this.line(`${this.tty ? '✘' : `${state}:`} ${upload.name} ${state} ${reason}`.trim());
    } else if (!this.tty && state !== 'queued') {
      this.line(`${state}: ${upload.name}`);
    }
  }

  /** Stops redrawing and leaves the last picture on screen. */
  stop() {
    clearInterval(this.timer);
    this.render();
    this.timer = undefined;
    this.drawnLines = 0; // The last picture stays; later lines go below it.
  }

  render() {
    if (this.tty) {
      this.clear();
      this.draw();
      return;
    }
    // Plain output: a line at every further 10 %.
    const tenth = Math.floor(this.totals().fraction * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`progress: ${this.summary()}\n`);
    }
  }

  /** Bytes done and to do (files that ended without uploading leave the total), speed. */
  totals() {
    let done = 0;
    let total = this.totalBytes;
    let speed = 0;
    let finished = 0;
    for (const upload of this.uploads) {
      if (upload.state === 'ready') done += upload.size;
      else if (['rejected', 'failed', 'cancelled'].includes(upload.state)) total -= upload.size;
      else done += doneBytes(upload);
      if (upload.state === 'uploading') speed += upload.progress.bytesPerSecond;
      if (['ready', 'rejected', 'failed', 'cancelled'].includes(upload.state)) finished++;
    }
    return { done, total, fraction: total > 0 ? done / total : 1, speed, finished };
  }

  summary() {
    const { done, total, fraction, speed, finished } = this.totals();
    const eta = speed > 0 ? (total - done) / speed : undefined;
    return (
      `${percent(fraction)} ${formatBytes(done)}/${formatBytes(total)}  ` +
      `${finished}/${this.totalFiles} files  ${formatBytes(speed)}/s  ETA ${formatDuration(eta)}`
    );
  }

  clear() {
    if (!this.tty || this.drawnLines === 0) return;
    // Up to the first line of the block, then erase everything below.
    this.out.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }

  draw() {
    if (!this.tty || this.timer === undefined) return;
    const columns = Math.max(60, this.out.columns ?? 80);
    const lines = [`${bar(this.totals().fraction, 20)} ${this.summary()}`];
    const active = this.uploads.filter((u) => ACTIVE.has(u.state));
    const nameWidth = Math.max(12, columns - 58);
    for (const upload of active.slice(0, MAX_FILE_LINES)) {
      const { bytesPerSecond, etaSeconds } = upload.progress;
      const share = upload.size > 0 ? doneBytes(upload) / upload.size : 1;
      const detail =
        upload.state === 'uploading'
          ? `${formatBytes(bytesPerSecond)}/s ETA ${formatDuration(etaSeconds)}`
          : upload.state;
      lines.push(`  ${fit(upload.name, nameWidth)} ${bar(share, 16)} ${percent(share)} ${detail}`);
    }
    if (active.length > MAX_FILE_LINES)
      lines.push(`  … and ${active.length - MAX_FILE_LINES} more`);
    const text = lines.map((l) => (l.length > columns - 1 ? l.slice(0, columns - 1) : l));
    this.out.write(`${text.join('\n')}\n`);
    this.drawnLines = text.length;
  }
}
