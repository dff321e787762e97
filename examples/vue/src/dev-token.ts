import { SERVICE_ROUTES } from '@file-uploader/protocol';

let pending: Promise<string> | undefined;

/**
 * Token provider for `<file-uploader>`: the reference server's dev token (DEV_MODE only). A real
 * app asks its own backend here. The token is fetched once and shared; `refresh` (the element
 * passes it after a 401) fetches a new one.
 */
export function devToken(refresh: boolean): Promise<string> {
  if (refresh || !pending) {
    const request = fetch(SERVICE_ROUTES.devToken, { cache: 'no-store' }).then(async (res) => {
      if (!res.ok) throw new Error(`No dev token: ${res.status} ${res.statusText}`);
      return ((await res.json()) as { token: string }).token;
    });
    // A failed fetch is not cached: the next upload asks again.
    request.catch(() => {
      if (pending === request) pending = undefined;
    });
    pending = request;
  }
  return pending;
}
