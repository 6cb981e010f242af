import { createEnclaveClient, type EnclaveClient } from '@enclave/api-client';
import { headers } from 'next/headers';
import { CONSOLE_CLIENT_HEADER, CONSOLE_SECRET_HEADER, consoleRuntime } from './runtime';

/**
 * The API client the console's server code uses: the server's loopback listener, the admin's token when
 * there is one, and the browser's address (set by the server in front of Next) for rate limits and audit.
 */
export async function serverApi(token?: string): Promise<EnclaveClient> {
  const runtime = consoleRuntime();
  const client = createEnclaveClient({ baseUrl: runtime.apiUrl, token });
  const address = (await headers()).get(CONSOLE_CLIENT_HEADER) ?? 'unknown';
  client.use({
    onRequest({ request }) {
      request.headers.set(CONSOLE_SECRET_HEADER, runtime.secret);
      request.headers.set(CONSOLE_CLIENT_HEADER, address);
      return request;
    },
  });
  return client;
}
