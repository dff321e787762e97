/**
 * German for `<file-uploader>`: importing this module registers the texts, picked by
 * `locale="de"` or the nearest `lang="de"`. It waits for the element's definition instead of
 * importing it, so it works beside the npm package and beside the one-file bundle alike.
 */
import type { FileUploader } from '../file-uploader.js';
import { de } from '../strings-de.js';

export { de };

if (typeof customElements !== 'undefined') {
  void customElements
    .whenDefined('file-uploader')
    .then((element) => (element as unknown as typeof FileUploader).addLocale('de', de));
}
