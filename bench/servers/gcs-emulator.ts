/**
 * The GCS emulator of the tests (test/gcs-emulator/) as its own process, so its CPU and memory
 * are apart from the benchmark's and the reference server's. Environment: BUCKET (created at
 * start), PROJECT_ID. Prints one JSON line on stdout once the bucket exists:
 * `{"url": ..., "projectId": ..., "bucket": ..., "serviceAccountKey": {...}}`.
 */
import { startGcsEmulator } from '../../test/gcs-emulator/index.js';

const bucket = process.env.BUCKET ?? 'bench';
const gcs = await startGcsEmulator({ projectId: process.env.PROJECT_ID ?? 'bench-project' });
await gcs.storage().bucket(bucket).create();
process.stdout.write(
  `${JSON.stringify({
    url: gcs.url,
    projectId: gcs.projectId,
    bucket,
    serviceAccountKey: gcs.serviceAccountKey,
  })}\n`,
);
process.on('SIGTERM', () => {
  void gcs.stop().then(() => process.exit(0));
});
