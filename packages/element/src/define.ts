// The one module with side effects: importing it registers <file-uploader>.
import { FileUploader } from './file-uploader.js';

export { FileUploader };

// A second copy of the bundle on one page must not throw on the second define.
if (!customElements.get('file-uploader')) customElements.define('file-uploader', FileUploader);

declare global {
  interface HTMLElementTagNameMap {
    'file-uploader': FileUploader;
  }
}
