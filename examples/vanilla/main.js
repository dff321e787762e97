// The few lines a page adds to <file-uploader>: a token provider and event listeners.
// Inline scripts are blocked by the server's Content-Security-Policy, hence a file.

const uploader = document.querySelector('file-uploader');

// Dev mode only: the reference server hands out a short-lived token at /dev/token
// (SERVICE_ROUTES.devToken). A real page asks its own backend.
uploader.getToken = async () => {
  const response = await fetch('/dev/token', { cache: 'no-store' });
  if (!response.ok) throw new Error(`No dev token: ${response.status} ${response.statusText}`);
  return (await response.json()).token;
};

const log = document.querySelector('#events');
const show = (text) => {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.prepend(item);
};

uploader.addEventListener('files-added', (e) => show(`files-added: ${e.detail.files.length}`));
uploader.addEventListener('file-rejected', (e) => show(`file-rejected: ${e.detail.message}`));
uploader.addEventListener('upload-start', (e) =>
  show(`upload-start: ${e.detail.file.name}${e.detail.resumed ? ' (resumed)' : ''}`),
);
uploader.addEventListener('upload-success', (e) =>
  show(`upload-success: ${e.detail.file.name} → ${e.detail.fileId}`),
);
uploader.addEventListener('upload-error', (e) =>
  show(`upload-error: ${e.detail.file.name}: ${e.detail.error.code} ${e.detail.error.message}`),
);
uploader.addEventListener('batch-done', (e) =>
  show(`batch-done: ${e.detail.fileIds.length} uploaded, ${e.detail.failed} failed`),
);
