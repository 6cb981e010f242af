/** Set by the server process that serves the console (apps/server/src/console.ts). */
export interface ConsoleRuntime {
  apiUrl: string;
  secret: string;
  idleTimeoutSeconds: number;
}

export const CONSOLE_CLIENT_HEADER = 'x-enclave-console-client';
export const CONSOLE_SECRET_HEADER = 'x-enclave-console-secret';

export function consoleRuntime(): ConsoleRuntime {
  const runtime = (globalThis as { __enclaveConsole?: ConsoleRuntime }).__enclaveConsole;
  if (!runtime?.apiUrl) throw new Error('the admin console must be served by the Enclave server (npm start)');
  return runtime;
}
