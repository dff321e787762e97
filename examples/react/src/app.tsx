import type { BatchDoneEvent, FileRejectedEvent, UploadSuccessEvent } from '@file-uploader/element';
import { API_PREFIX } from '@file-uploader/protocol';
import { useState } from 'react';
import { devToken } from './dev-token.js';
import './file-uploader-jsx.js';

/** A file the server stored, as `upload-success` reported it. */
interface Uploaded {
  readonly fileId: string;
  readonly name: string;
}

/** What the form sent: its entries, read from the FormData React passed to the action. */
interface Sent {
  readonly message: string;
  readonly attachments: string[];
}

/** A message form with attachments: `<file-uploader>` is a form field like an `<input>`. */
export function App() {
  const [uploaded, setUploaded] = useState<Uploaded[]>([]);
  const [rejected, setRejected] = useState<string[]>([]);
  const [batch, setBatch] = useState('');
  const [sent, setSent] = useState<Sent | null>(null);

  const onUploadSuccess = (event: UploadSuccessEvent) => {
    const { fileId, file } = event.detail;
    setUploaded((list) => [...list, { fileId, name: file.name }]);
  };
  const onFileRejected = (event: FileRejectedEvent) => {
    const { message } = event.detail;
    setRejected((list) => [...list, message]);
  };
  const onBatchDone = (event: BatchDoneEvent) => {
    const { fileIds, failed } = event.detail;
    setBatch(`Batch done: ${fileIds.length} uploaded, ${failed} failed.`);
  };

  // A React 19 form action gets the form's FormData: the element's value is in it, one entry per
  // uploaded file id. React resets the form after the action, and the element's reset empties
  // its list, ready for the next message. A real app would post the entries to its backend.
  const send = (form: FormData) => {
    setSent({
      message: String(form.get('message') ?? ''),
      attachments: form.getAll('attachments').map(String),
    });
    setUploaded([]);
    setRejected([]);
    setBatch('');
  };

  return (
    <main>
      <h1>file-uploader in React</h1>
      <form action={send}>
        <label>
          Message <input name="message" defaultValue="Quarterly report attached." />
        </label>
        <file-uploader
          name="attachments"
          required
          endpoint={API_PREFIX}
          accept=".pdf,.docx,image/*"
          max-total-size="100MB"
          getToken={devToken}
          onupload-success={onUploadSuccess}
          onfile-rejected={onFileRejected}
          onbatch-done={onBatchDone}
        ></file-uploader>
        <button type="submit">Send</button>
      </form>

      <section aria-labelledby="uploaded-heading">
        <h2 id="uploaded-heading">Uploaded</h2>
        <ul id="uploaded">
          {uploaded.map(({ fileId, name }) => (
            <li key={fileId} data-file-id={fileId}>
              {name}: <code>{fileId}</code>
            </li>
          ))}
        </ul>
        <ul id="rejected">
          {rejected.map((message, index) => (
            <li key={index}>{message}</li>
          ))}
        </ul>
        <p id="batch" role="status">
          {batch}
        </p>
      </section>

      {sent && (
        <section aria-labelledby="sent-heading">
          <h2 id="sent-heading">Sent</h2>
          <p>{sent.message}</p>
          <ul id="sent">
            {sent.attachments.map((fileId) => (
              <li key={fileId} data-file-id={fileId}>
                <code>{fileId}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
