// Typed client for the Enclave server API, generated from apps/server/openapi.json
// (`npm run openapi` regenerates schema.d.ts; a test fails when it is stale).
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components, paths };
export type Schemas = components['schemas'];
export type EnclaveClient = Client<paths>;

export interface EnclaveClientOptions {
  /** Base URL of the server, e.g. https://enclave.example.org */
  baseUrl: string;
  /** Admin bearer token; a function is called before each request (tokens rotate). */
  token?: string | (() => string | undefined);
  fetch?: typeof globalThis.fetch;
}

export function createEnclaveClient(opts: EnclaveClientOptions): EnclaveClient {
  const client = createClient<paths>({ baseUrl: opts.baseUrl.replace(/\/$/, ''), fetch: opts.fetch });
  if (opts.token !== undefined) {
    const auth: Middleware = {
      onRequest({ request }) {
        const token = typeof opts.token === 'function' ? opts.token() : opts.token;
        if (token) request.headers.set('Authorization', `Bearer ${token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}
