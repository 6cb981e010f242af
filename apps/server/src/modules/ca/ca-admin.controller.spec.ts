import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminRole, RECENT_AUTH_KEY, ROLES_KEY } from '../auth/roles';
import { CaAdminController } from './ca-admin.controller';

const handler = (name: keyof CaAdminController) => CaAdminController.prototype[name] as object;
const roles = (name: keyof CaAdminController) => Reflect.getMetadata(ROLES_KEY, handler(name)) as AdminRole[];
const recentAuth = (name: keyof CaAdminController) => Reflect.getMetadata(RECENT_AUTH_KEY, handler(name)) === true;

test('CA reads are for owners and auditors; CA changes are owner-only and need a recent re-authentication', () => {
  for (const read of ['overview', 'certificates', 'getSettings'] as const) {
    assert.deepEqual(roles(read), [AdminRole.OWNER, AdminRole.AUDITOR], read);
    assert.equal(recentAuth(read), false, read);
  }
  for (const change of ['putSettings', 'renew', 'rotate', 'retire'] as const) {
    assert.deepEqual(roles(change), [AdminRole.OWNER], change);
    assert.equal(recentAuth(change), true, change);
  }
});
