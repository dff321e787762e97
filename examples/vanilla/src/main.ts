/**
 * A minimal client of protocol v1, with no SDK: initiate, send chunks with their SHA-256,
 * read the outcome, ask for a download link. The SDK does this with retries and resume.
 */
import {
  CONFIRM_DELETE,
  HEADERS,
  SERVICE_ROUTES,
  chunkRange,
  formatContentDigest,
  formatContentRange,
  isErrorBody,
  routePath,
  type ChunkResponse,
  type DownloadResponse,
  type FileStatusResponse,
  type InitiateResponse,
} from '@file-uploader/protocol';

/**
 * The dev token, fetched once at start. Requests wait for it, so files chosen before it arrives
 * are not lost; a failure shows on the row of the upload that needed it.
 */
const token: Promise<string> = fetch(SERVICE_ROUTES.devToken).then(async (response) => {
  if (!response.ok) throw new Error(`No dev token: ${response.status} ${response.statusText}`);
  return ((await response.json()) as { token: string }).token;
});
token.catch(() => undefined); // reported by the upload that needs it

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set(HEADERS.authorization, `Bearer ${await token}`);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json();
  if (!response.ok) {
    throw new Error(
      isErrorBody(body) ? `${body.error.code}: ${body.error.message}` : response.statusText,
    );
  }
  return body as T;
}

function row(name: string) {
  const li = document.createElement('li');
  const title = document.createElement('strong');
  title.textContent = name;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  const status = document.createElement('div');
  li.append(title, bar, status);
  document.querySelector('#list')?.append(li);
  return {
    progress: (value: number) => (bar.value = value),
    status: (text: string, kind = '') => {
      status.textContent = text;
      status.className = kind ? `status-${kind}` : '';
    },
    link: (url: string, onDelete: () => Promise<void>) => {
      const a = document.createElement('a');
      a.href = url;
      a.textContent = 'Download';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.addEventListener('click', () => {
        onDelete().then(
          () => li.remove(),
          (err: Error) => (status.textContent = err.message),
        );
      });
      status.append(' ', a, ' ', remove);
    },
  };
}

async function upload(files: File[]): Promise<void> {
  const session = await call<InitiateResponse>(routePath('initiate'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      files: files.map((f) => ({
        name: f.name,
        size: f.size,
        type: f.type,
        lastModified: f.lastModified,
      })),
    }),
  });
  await Promise.all(
    session.files.map(async (info, i) => {
      const file = files[i] as File;
      const ui = row(info.name);
      let status: string = info.status;
      for (let index = 0; index < info.totalChunks && status !== 'ready'; index++) {
        const { start, end } = chunkRange(index, file.size, session.chunkSize);
        const bytes = await file.slice(start, end + 1).arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        const result = await call<ChunkResponse>(routePath('chunk'), {
          method: 'POST',
          headers: {
            [HEADERS.session]: session.sessionId,
            [HEADERS.file]: info.fileId,
            [HEADERS.contentRange]: formatContentRange({ start, end, size: file.size }),
            [HEADERS.contentDigest]: formatContentDigest(digest),
            'Content-Type': 'application/octet-stream',
          },
          body: bytes,
        });
        status = result.status;
        ui.progress(result.receivedBytes / file.size);
      }
      const final = await call<FileStatusResponse>(routePath('status', { fileId: info.fileId }));
      ui.progress(1);
      if (final.status !== 'ready') {
        ui.status(`${final.status}: ${final.error?.message ?? ''}`, final.status);
        return;
      }
      ui.status(`ready (${final.detectedType})`, 'ready');
      const { url } = await call<DownloadResponse>(routePath('download', { fileId: info.fileId }));
      ui.link(url, () =>
        call(routePath('remove', { fileId: info.fileId }), {
          method: 'DELETE',
          headers: { [HEADERS.confirm]: CONFIRM_DELETE },
        }),
      );
    }),
  );
}

function main(): void {
  const input = document.querySelector<HTMLInputElement>('#files');
  input?.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length === 0) return;
    upload(files).catch((err: Error) =>
      row(files.map((f) => f.name).join(', ')).status(err.message, 'failed'),
    );
  });
}

main();
