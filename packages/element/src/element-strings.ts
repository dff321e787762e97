import type { Strings } from './strings.js';

/** Texts of the element's own (form validity and empty list), beside the shared table. */
export interface ElementStrings {
  /** Shown in the empty-state slot's default content. */
  emptyList: string;
  /** The form's validation message while uploads are unfinished. */
  validityUnfinished: string;
  /** The form's validation message when `required` and no file is uploaded. */
  validityRequired: string;
}

/** Every text the element uses; the `strings` property may replace any of them. */
export type UploaderStrings = Strings & ElementStrings;

export const elementEn: ElementStrings = {
  emptyList: 'No files yet.',
  validityUnfinished: 'Wait until every upload has finished.',
  validityRequired: 'Upload at least one file.',
};

export const elementDe: ElementStrings = {
  emptyList: 'Noch keine Dateien.',
  validityUnfinished: 'Bitte warten Sie, bis alle Uploads fertig sind.',
  validityRequired: 'Bitte laden Sie mindestens eine Datei hoch.',
};
