import { Global, Module } from '@nestjs/common';
import { SecretBox } from './secret-box';

/** Provides the SecretBox built from the master key (see main.ts / worker.ts). */
@Global()
@Module({})
export class SecretsModule {
  static forRoot(box: SecretBox) {
    return { module: SecretsModule, providers: [{ provide: SecretBox, useValue: box }], exports: [SecretBox] };
  }
}
