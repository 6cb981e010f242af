import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policyProblems, toDaemonConfig } from './daemon-keys';

test('policyProblems accepts known keys with the right scalar types', () => {
  assert.deepEqual(
    policyProblems({ 'TURN.enable': true, 'TURN.server': 'turn.example.org:3478', 'DHT.port': 4222 }),
    [],
  );
});

test('policyProblems names every bad key', () => {
  assert.deepEqual(
    policyProblems({ 'TLS.privateKeyFile': '/x', 'TURN.enable': 'yes', 'DHT.port': 1.5, 'Account.alias': {} }),
    [
      'TLS.privateKeyFile is not a Jami account setting an organization may set',
      'TURN.enable must be true or false',
      'DHT.port must be an integer',
      'Account.alias must be a string',
    ],
  );
  assert.deepEqual(policyProblems([]), ['policy must be a JSON object']);
  assert.deepEqual(policyProblems({ 'Account.managerUri': 'https://evil' }), [
    'Account.managerUri is not a Jami account setting an organization may set',
  ]);
});

test('toDaemonConfig sends both spellings of aliased keys', () => {
  assert.deepEqual(toDaemonConfig({ 'Account.allModeratorsEnabled': true, 'Account.dhtPort': 4222 }), {
    'Account.allModeratorsEnabled': true,
    'Account.allModeratorEnabled': true,
    'Account.dhtPort': 4222,
    'DHT.port': 4222,
  });
});
