import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../common/app-error';
import { SyncService } from './sync.service';

// validate() runs before any database access, so a service without a data source exercises it.
const service = new SyncService(undefined as never, undefined as never);
const reject = (kind: 'contact' | 'conversation' | 'conversationRequest', body: unknown, message: RegExp) =>
  assert.rejects(service.merge('u', kind, body), (e: unknown) => e instanceof AppError && message.test(e.message));

test('sync bodies are checked item by item with messages naming the problem', async () => {
  await reject('contact', {}, /must be a JSON array/);
  await reject('contact', [1], /Item 0 must be a JSON object/);
  await reject('contact', [{ uri: 'xyz' }], /Item 0: "uri" is missing or malformed/);
  await reject('contact', [{ uri: 'a'.repeat(40), added: -1 }], /"added" must be a non-negative integer/);
  await reject('conversation', [{ id: 'c1', createdMs: 'soon' }], /"createdMs" must be a non-negative integer/);
  await reject('conversationRequest', [{ from: 'x' }], /"conversationId" is missing/);
  await reject('contact', [{ uri: 'a'.repeat(40), added: 1e300 }], /"added" must be a non-negative integer/);
  await reject('conversation', [{ id: 'c1', title: 'a\u0000b' }], /Item 0 contains a NUL character/);
  await reject(
    'contact',
    Array.from({ length: 10_001 }, () => ({})),
    /At most 10000 items/,
  );
});
