import { CONFIRM_DELETE, HEADERS, isErrorBody, routePath } from '@file-uploader/protocol';
import { UploadError, type TokenProvider } from '@file-uploader/sdk';

/**
 * Deletes a file that finished uploading (`DELETE /:fileId`, confirmed by header). The SDK's
 * `upload.cancel()` deletes unfinished files only; a ready file needs this call. A 401 asks
 * the token provider for a fresh token once, as the SDK does.
 */
export async function removeUploaded(
  endpoint: string,
  fileId: string,
  getToken: TokenProvider,
  fetcher: typeof fetch = globalThis.fetch,
): Promise<void> {
  const url = routePath('remove', { fileId }, endpoint.replace(/\/+$/, ''));
  for (const refresh of [false, true]) {
    const response = await fetcher(url, {
      method: 'DELETE',
      headers: {
        [HEADERS.authorization]: `Bearer ${await getToken(refresh)}`,
        [HEADERS.confirm]: CONFIRM_DELETE,
      },
    });
    // Already gone is what the user asked for.
    if (response.ok || response.status === 404) return;
    if (response.status === 401 && !refresh) continue;
    const body: unknown = await response.json().catch(() => undefined);
    const error = isErrorBody(body) ? body.error : undefined;
    throw new UploadError(
      error?.code ?? 'internal',
      error?.message ?? `HTTP ${response.status}`,
      false,
      response.status,
    );
  }
}
