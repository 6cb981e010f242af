// @peculiar/x509 resolves its algorithms through tsyringe, which needs the reflect-metadata polyfill
// loaded first. Every module of libs/pki imports @peculiar/x509 through this file.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

export { x509 };
