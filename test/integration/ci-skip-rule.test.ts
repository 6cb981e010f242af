import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingPackageReason, skipReasonOrFailInCi } from '../support/system';

test('a missing daemon skips locally and fails under CI=true', () => {
  const saved = process.env.CI;
  try {
    delete process.env.CI;
    assert.match(String(missingPackageReason('enclave-no-such-daemon', 'no-such-pkg')), /no-such-pkg is not installed/);
    assert.equal(missingPackageReason('sh', 'dash'), undefined);
    process.env.CI = 'true';
    assert.throws(() => missingPackageReason('enclave-no-such-daemon', 'no-such-pkg'), /CI=true.*no-such-pkg/);
    assert.equal(missingPackageReason('sh', 'dash'), undefined, 'a present daemon never throws');
    assert.equal(skipReasonOrFailInCi(undefined), undefined);
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});
