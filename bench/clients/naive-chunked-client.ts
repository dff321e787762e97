import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';

/**
 * The naive chunked client: reads `chunkSize` bytes, PUTs them with Content-Range over one
 * keep-alive connection, waits for the answer, repeats. No hashing, no parallelism.
 */
export async function naiveChunkedPut(file: string, url: string, chunkSize: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.allocUnsafe(chunkSize);
    for (let start = 0; start < size; start += chunkSize) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkSize, size - start), start);
      const body = buffer.subarray(0, bytesRead);
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          url,
          {
            method: 'PUT',
            agent,
            headers: {
              'Content-Length': String(bytesRead),
              'Content-Range': `bytes ${start}-${start + bytesRead - 1}/${size}`,
            },
          },
          (res) => {
            res.resume();
            res.once('end', () =>
              res.statusCode === 204 ? resolve() : reject(new Error(`PUT: ${res.statusCode}`)),
            );
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    }
  } finally {
    await handle.close();
    agent.destroy();
  }
}

/** One streamed PUT of a whole file with `node:http` (1 MiB reads), for the concurrency row. */
export async function streamedPut(file: string, url: string, size: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'PUT', headers: { 'Content-Length': String(size) } },
      (res) => {
        res.resume();
        res.once('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`PUT: ${res.statusCode}`)),
        );
      },
    );
    req.once('error', reject);
    createReadStream(file, { highWaterMark: 1024 * 1024 })
      .once('error', reject)
      .pipe(req);
  });
}
