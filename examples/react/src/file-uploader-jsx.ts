/**
 * `<file-uploader>` in JSX. React 19 sets a prop on a custom element as a property when the
 * element has one (`getToken`, `endpoint`, `name`), else as an attribute (`max-total-size`), and
 * turns `on<event-name>` props into `addEventListener('<event-name>', ...)`, with the event name
 * as written: `onupload-success`, not `onUploadSuccess`.
 */
import type {
  BatchDoneEvent,
  FileRejectedEvent,
  FileUploader,
  FilesAddedEvent,
  UploadErrorEvent,
  UploadProgressEvent,
  UploadStartEvent,
  UploadSuccessEvent,
} from '@file-uploader/element';
import type { DetailedHTMLProps, HTMLAttributes } from 'react';

/** Props of `<file-uploader>`: its attributes and properties, and its events. */
export interface FileUploaderProps extends DetailedHTMLProps<
  HTMLAttributes<FileUploader>,
  FileUploader
> {
  endpoint?: string;
  accept?: string;
  'max-file-size'?: string;
  'max-total-size'?: string;
  'max-files'?: number;
  disabled?: boolean;
  name?: string;
  required?: boolean;
  locale?: string;
  'persist-files'?: boolean;
  getToken?: FileUploader['getToken'];
  strings?: FileUploader['strings'];
  uploaderOptions?: FileUploader['uploaderOptions'];
  'onfiles-added'?: (event: FilesAddedEvent) => void;
  'onfile-rejected'?: (event: FileRejectedEvent) => void;
  'onupload-start'?: (event: UploadStartEvent) => void;
  'onupload-progress'?: (event: UploadProgressEvent) => void;
  'onupload-success'?: (event: UploadSuccessEvent) => void;
  'onupload-error'?: (event: UploadErrorEvent) => void;
  'onbatch-done'?: (event: BatchDoneEvent) => void;
}

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'file-uploader': FileUploaderProps;
    }
  }
}
