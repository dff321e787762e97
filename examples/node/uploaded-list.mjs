/**
 * The files of a folder that are already uploaded, kept as `uploaded.json` in the state
 * directory, so a second run skips them. Written atomically (temporary file, then rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class UploadedList {
  /** @param {string} directory @param {string} endpoint */
  constructor(directory, endpoint) {
    this.file = path.join(directory, 'uploaded.json');
    this.endpoint = endpoint;
    /** @type {Record<string, { size: number, lastModified?: number, sessionId: string, fileId: string, contentHash?: string }>} */
    this.files = {};
    this.writing = Promise.resolve();
  }

  /** Loads what an earlier run wrote for the same endpoint (nothing when missing or damaged). */
  async load() {
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8'));
      if (saved?.endpoint === this.endpoint && saved.files && typeof saved.files === 'object') {
        this.files = saved.files;
      }
    } catch (err) {
      if (err?.code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return this;
  }

  /** True when `rel` went up before and has not changed since (same size and time). */
  has(rel, { size, lastModified }) {
    const entry = this.files[rel];
    return entry !== undefined && entry.size === size && entry.lastModified === lastModified;
  }

  /** Records a file that ended ready, and saves the list. */
  add(rel, upload) {
    this.files[rel] = {
      size: upload.size,
      ...(upload.lastModified !== undefined ? { lastModified: upload.lastModified } : {}),
      sessionId: upload.result?.sessionId ?? upload.sessionId,
      fileId: upload.result?.fileId ?? upload.fileId,
      ...(upload.contentHash ? { contentHash: upload.contentHash } : {}),
    };
    return this.save();
  }

  /** Saves; writes run one after another, each with the whole list. */
  save() {
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(
        temp,
        JSON.stringify({ endpoint: this.endpoint, files: this.files }, null, 2),
      );
      await rename(temp, this.file);
    });
    return this.writing;
  }
}
