/**
 * What the server learns from a file's content after assembly: image dimensions and EXIF, PDF
 * document information, Office document properties. Every field is optional because files
 * often lack it, and because extraction stops at its read, inflate and time limits.
 * Strings are trimmed, non-empty and at most {@link MAX_METADATA_TEXT} characters; dates are
 * ISO 8601 (with an offset when the file states one, as a local time when it does not).
 */

/** Longest string value reported; longer values are cut to this length. */
export const MAX_METADATA_TEXT = 1024;

/** Why extraction reported less than the file may hold. */
export const MetadataWarningCode = {
  /** A read, inflate, object or nesting limit was reached (zip bombs, deep nesting, loops). */
  limit: 'limit',
  /** Extraction ran out of time. */
  timeout: 'timeout',
  /** The content is truncated or does not follow its format. */
  malformed: 'malformed',
  /** The content uses a feature the extractor does not read (encryption, an unknown codec). */
  unsupported: 'unsupported',
} as const;

export type MetadataWarningCode = (typeof MetadataWarningCode)[keyof typeof MetadataWarningCode];

export interface MetadataWarning {
  code: MetadataWarningCode;
  message: string;
}

/** Position of a photo; reported only when the server is configured to keep GPS data. */
export interface GpsPosition {
  /** Degrees, north positive. */
  latitude: number;
  /** Degrees, east positive. */
  longitude: number;
  /** Metres above sea level. */
  altitude?: number;
}

/** The EXIF fields the server reports; anything else in the file is not passed on. */
export interface ExifData {
  make?: string;
  model?: string;
  software?: string;
  lensModel?: string;
  /** EXIF orientation, 1 (upright) to 8. */
  orientation?: number;
  /** DateTimeOriginal, with OffsetTimeOriginal when present. */
  dateTaken?: string;
  /** Seconds. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  /** Millimetres. */
  focalLength?: number;
  gps?: GpsPosition;
}

export interface ImageMetadata {
  fileType: 'png' | 'jpg';
  /** Pixels, as stored (before applying the EXIF orientation). */
  width?: number;
  height?: number;
  exif?: ExifData;
  /** True when the file carries a GPS position that is left out of this report. */
  gpsRemoved?: boolean;
}

export interface PdfMetadata {
  fileType: 'pdf';
  /** Header version, e.g. `1.7`. */
  version?: string;
  pages?: number;
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  created?: string;
  modified?: string;
  /** The file is encrypted: its document information is not readable without the key. */
  encrypted?: boolean;
}

/** Document properties shared by OOXML core properties and OLE summary information. */
export interface DocumentProperties {
  title?: string;
  subject?: string;
  /** dc:creator in OOXML, PIDSI_AUTHOR in OLE. */
  author?: string;
  keywords?: string;
  /** dc:description in OOXML, PIDSI_COMMENTS in OLE. */
  description?: string;
  lastModifiedBy?: string;
  created?: string;
  modified?: string;
  /** The producing application, when the file names it (OLE PIDSI_APPNAME). */
  application?: string;
}

export interface DocxMetadata extends DocumentProperties {
  fileType: 'docx';
}

export interface XlsxMetadata extends DocumentProperties {
  fileType: 'xlsx';
  /** Worksheets, chart sheets and dialog sheets listed by the workbook. */
  sheets?: number;
}

export interface DocMetadata extends DocumentProperties {
  fileType: 'doc';
}

export interface XlsMetadata extends DocumentProperties {
  fileType: 'xls';
}

/** Content metadata of one file, discriminated by its file type. */
export type FileMetadata =
  ImageMetadata | PdfMetadata | DocxMetadata | XlsxMetadata | DocMetadata | XlsMetadata;

/** The outcome of metadata extraction, as reported for a file. */
export interface ExtractedMetadata {
  metadata: FileMetadata;
  /** True when a limit, a timeout or malformed content cut extraction short. */
  partial: boolean;
  warnings: MetadataWarning[];
}
