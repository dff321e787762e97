/** Small, real, valid sample files for tests across the project, built in memory. */
export { pdf } from './fixtures/pdf.js';
export { png, jpeg } from './fixtures/images.js';
export { docx, xlsx, zip, zipArchive } from './fixtures/zip.js';
export type { ZipEntry } from './fixtures/zip.js';
export { doc, xls, cfb } from './fixtures/cfb.js';
export type { CfbNode } from './fixtures/cfb.js';
export { exe, text, randomBytes, padTo } from './fixtures/misc.js';
export { crc32 } from './fixtures/crc32.js';
