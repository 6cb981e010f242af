import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  diffSettings,
  isHostPort,
  policyProblems,
  settingsIssues,
  toDaemonConfig,
  uiCustomizationText,
} from './daemon-keys';

test('policyProblems accepts known keys with values of the right meaning', () => {
  assert.deepEqual(
    policyProblems({
      'TURN.enable': true,
      'TURN.server': 'turn.example.org:3478',
      'DHT.port': 4222,
      'Account.hostname': 'boot1.example.org:4222;10.0.0.7;[2001:db8::1]:4222',
      'Account.proxyServer': 'https://proxy.example.org/',
      'Account.activeCallLimit': 0,
      'Account.audioPortMin': 16384,
      'Account.audioPortMax': 32766,
      'Account.defaultModerators': { users: ['alice'], groups: [] },
      'Account.uiCustomization': { title: 'Acme', backgroundColor: '#112233', logoSize: 50 },
      'TURN.realm': '',
    }),
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

test('values are checked by meaning: hosts, ports, limits, ranges, people, UI fields, aliases', () => {
  const keysOf = (s: Record<string, unknown>) => settingsIssues(s).map((i) => i.key);
  assert.deepEqual(keysOf({ 'TURN.server': 'turn.example.org:99999' }), ['TURN.server']);
  assert.deepEqual(keysOf({ 'TURN.server': 'not a host' }), ['TURN.server']);
  assert.deepEqual(keysOf({ 'Account.hostname': 'a.example.org;;b' }), ['Account.hostname']);
  assert.deepEqual(keysOf({ 'Account.activeCallLimit': -1 }), ['Account.activeCallLimit']);
  assert.deepEqual(keysOf({ 'Account.videoPortMin': 0 }), ['Account.videoPortMin']);
  assert.deepEqual(keysOf({ 'Account.videoPortMin': 3000, 'Account.videoPortMax': 2000 }), ['Account.videoPortMin']);
  assert.deepEqual(keysOf({ 'Account.defaultModerators': 'abc/def' }), ['Account.defaultModerators']);
  assert.deepEqual(keysOf({ 'Account.defaultModerators': { users: [''], groups: [] } }), ['Account.defaultModerators']);
  assert.deepEqual(keysOf({ 'Account.uiCustomization': { title: 'x', colour: 'red' } }), ['Account.uiCustomization']);
  assert.deepEqual(keysOf({ 'Account.uiCustomization': { logo: 'x.png' } }), ['Account.uiCustomization']);
  assert.deepEqual(keysOf({ 'Account.uiCustomization': { mainBoxColor: 'red' } }), ['Account.uiCustomization']);
  assert.deepEqual(keysOf({ 'Account.alias': 'a\u0000b' }), ['Account.alias']);
  assert.deepEqual(keysOf({ 'RingNS.uri': 'ftp://ns.example.org' }), ['RingNS.uri']);
  assert.deepEqual(keysOf({ 'Account.dtmfType': 'loud' }), ['Account.dtmfType']);
  assert.deepEqual(keysOf({ 'Account.allModeratorEnabled': true, 'Account.allModeratorsEnabled': false }), [
    'Account.allModeratorsEnabled',
  ]);
  assert.match(settingsIssues({ 'TURN.server': 'x:0' })[0].message, /TURN.server must be host\[:port\]/);
  assert.equal(isHostPort('[::1]:3478'), true);
  assert.equal(isHostPort('[nope]:3478'), false);
});

test('toDaemonConfig sends both spellings of aliased keys', () => {
  assert.deepEqual(toDaemonConfig({ 'Account.allModeratorsEnabled': true, 'Account.dhtPort': 4222 }), {
    'Account.allModeratorsEnabled': true,
    'Account.allModeratorEnabled': true,
    'Account.dhtPort': 4222,
    'DHT.port': 4222,
  });
});

test('uiCustomizationText writes the fields Jami clients read, logos as public paths', () => {
  const id = '0b7e4a52-5f0e-4a1a-9a0e-6a2b1c3d4e5f';
  assert.deepEqual(
    JSON.parse(uiCustomizationText({ title: 'Acme', backgroundColor: '#102030', logo: id, logoSize: 40 })),
    {
      title: 'Acme',
      backgroundType: 'color',
      backgroundColorOrUrl: '#102030',
      logoUrl: `/api/branding/logos/${id}`,
      logoSize: 40,
    },
  );
});

test('diffSettings lists added, removed and changed keys whatever the key order of objects', () => {
  assert.deepEqual(
    diffSettings({ a: 1, b: { x: 1, y: 2 }, c: true } as never, { b: { y: 2, x: 1 }, c: false, d: 'new' } as never),
    { added: ['d'], removed: ['a'], changed: ['c'] },
  );
});
