import path from 'node:path';
import type { Config } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

/** The configured BlobStore: a GCS bucket with `STORAGE=gcs`, else the disk under DATA_DIR. */
export async function createBlobStore(
  config: Pick<Config, 'storage' | 'dataDir' | 'encryptionKey'>,
  /** This process is the only one writing DATA_DIR (embedded): chunks are written in place. */
  options: { soleWriter?: boolean } = {},
): Promise<BlobStore> {
  const { storage, encryptionKey } = config;
  if (storage.kind === 'gcs') {
    // Loaded only when used: the GCS client and its auth stack weigh tens of MiB of memory.
    const { GcsBlobStore } = await import('./gcs-blob-store.js');
    return new GcsBlobStore({
      bucket: storage.bucket,
      storage: {
        ...(storage.projectId ? { projectId: storage.projectId } : {}),
        ...(storage.apiEndpoint ? { apiEndpoint: storage.apiEndpoint } : {}),
        ...(storage.keyFile ? { keyFilename: storage.keyFile } : {}),
      },
      ...(storage.kmsKeyName ? { kmsKeyName: storage.kmsKeyName } : {}),
      // ENCRYPTION_KEY becomes a customer-supplied key: GCS encrypts with it and keeps none.
      ...(encryptionKey ? { encryptionKey } : {}),
    });
  }
  return FsBlobStore.open({
    root: path.join(config.dataDir, 'blobs'),
    encryptionKey,
    inPlace: options.soleWriter === true,
  });
}
