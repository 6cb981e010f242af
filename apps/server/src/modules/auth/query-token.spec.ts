import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactRequestForLog, redactUrl, tokenParams } from './query-token';

test('credential-named parameters and Enclave bearer values are detected; ordinary ones are not', () => {
  assert.deepEqual(tokenParams('/api/admin/me?access_token=abc'), ['access_token']);
  assert.deepEqual(tokenParams('/x?TOKEN=abc&api_key=k&page=2'), ['TOKEN', 'api_key']);
  assert.deepEqual(tokenParams(`/x?cursor=encs_${'a'.repeat(43)}`), ['cursor']);
  assert.deepEqual(tokenParams('/x?q=Bearer%20abc'), ['q']);
  assert.deepEqual(tokenParams('/x?search=token&cursor=eyJpZCI6MX0&all=true'), []);
  assert.deepEqual(tokenParams('/x?token='), [], 'an empty value carries nothing');
  assert.deepEqual(tokenParams('/x'), []);
});

test('logged URLs and queries carry no credential value', () => {
  assert.equal(redactUrl('/a?access_token=s3cr3t&page=2'), '/a?access_token=[redacted]&page=2');
  assert.equal(redactUrl('/a?page=2'), '/a?page=2');
  const req = redactRequestForLog({ url: '/a?token=s3cr3t', query: { token: 's3cr3t', page: '2' } });
  assert.equal(req.url, '/a?token=[redacted]');
  assert.deepEqual(req.query, { token: '[redacted]', page: '2' });
});
