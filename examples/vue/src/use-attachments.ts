import type { BatchDoneEvent, FileRejectedEvent, UploadSuccessEvent } from '@file-uploader/element';
import { ref } from 'vue';

/** A file the server stored, as `upload-success` reported it. */
export interface Uploaded {
  readonly fileId: string;
  readonly name: string;
}

/** What the form sent: its entries, read from the form's FormData. */
export interface Sent {
  readonly message: string;
  readonly attachments: string[];
}

/**
 * State of the message form: what `<file-uploader>` reported through its events, and what the
 * form sent. Typed here, in TypeScript, so the template only wires names.
 */
export function useAttachments() {
  const uploaded = ref<Uploaded[]>([]);
  const rejected = ref<string[]>([]);
  const batch = ref('');
  const sent = ref<Sent | null>(null);

  function onUploadSuccess(event: UploadSuccessEvent): void {
    const { fileId, file } = event.detail;
    uploaded.value = [...uploaded.value, { fileId, name: file.name }];
  }
  function onFileRejected(event: FileRejectedEvent): void {
    rejected.value = [...rejected.value, event.detail.message];
  }
  function onBatchDone(event: BatchDoneEvent): void {
    const { fileIds, failed } = event.detail;
    batch.value = `Batch done: ${fileIds.length} uploaded, ${failed} failed.`;
  }

  /**
   * The element's value is in the form's FormData, one entry per uploaded file id. After reading
   * it the form is reset, and the element's reset empties its list, ready for the next message.
   * A real app would post the entries to its backend.
   */
  function send(event: SubmitEvent): void {
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form, event.submitter);
    sent.value = {
      message: String(data.get('message') ?? ''),
      attachments: data.getAll('attachments').map(String),
    };
    form.reset();
    uploaded.value = [];
    rejected.value = [];
    batch.value = '';
  }

  return { uploaded, rejected, batch, sent, onUploadSuccess, onFileRejected, onBatchDone, send };
}
