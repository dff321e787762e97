/**
 * Files from a drop, with dropped folders walked recursively through the File and Directory
 * Entries API. The entry types below are the parts of `FileSystemEntry` the walk uses, so tests
 * and other sources can hand in their own entries.
 */
export interface FileEntryLike {
  readonly isFile: true;
  readonly isDirectory: false;
  readonly name: string;
  file(success: (file: File) => void, failure?: (error: DOMException) => void): void;
}

export interface DirectoryReaderLike {
  readEntries(
    success: (entries: readonly EntryLike[]) => void,
    failure?: (error: DOMException) => void,
  ): void;
}

export interface DirectoryEntryLike {
  readonly isFile: false;
  readonly isDirectory: true;
  readonly name: string;
  createReader(): DirectoryReaderLike;
}

export type EntryLike = FileEntryLike | DirectoryEntryLike;

/**
 * Every file of a drop: plain files as they are, folders with all the files inside them
 * (depth first, in the order the browser lists them). Call it in the `drop` handler before any
 * `await`: the browser empties the DataTransfer once the handler returns, so the entries are
 * taken synchronously here and only read afterwards. Rejects when an entry cannot be read.
 */
export function filesFromDataTransfer(dt: DataTransfer): Promise<File[]> {
  const sources: Array<EntryLike | File> = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    // webkitGetAsEntry is missing in some embedded browsers and returns null for items that
    // were not dropped (a DataTransfer built by script): fall back to the plain file then.
    const entry = (item.webkitGetAsEntry?.() ?? null) as EntryLike | null;
    const file = entry ? undefined : item.getAsFile();
    if (entry) sources.push(entry);
    else if (file) sources.push(file);
  }
  if (sources.length === 0 && dt.files.length > 0) return Promise.resolve(Array.from(dt.files));
  return (async () => {
    const files: File[] = [];
    for (const source of sources) {
      if (source instanceof File) files.push(source);
      else files.push(...(await filesFromEntries([source])));
    }
    return files;
  })();
}

/** The files of `entries`, folders walked recursively. */
export async function filesFromEntries(entries: readonly EntryLike[]): Promise<File[]> {
  const files: File[] = [];
  for (const entry of entries) {
    if (entry.isFile) files.push(await readFile(entry));
    else files.push(...(await filesFromEntries(await readDirectory(entry))));
  }
  return files;
}

function readFile(entry: FileEntryLike): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/**
 * All entries of a folder. One `readEntries` call returns a batch (Chromium gives at most 100),
 * so the reader is called until it returns an empty batch.
 */
async function readDirectory(entry: DirectoryEntryLike): Promise<EntryLike[]> {
  const reader = entry.createReader();
  const entries: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<readonly EntryLike[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}
