import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import type { PolicySettings } from './daemon-keys';

/** Settings that are secrets: sealed at rest, shown to admins as SECRET_MASK, sent in clear only to devices. */
export const SECRET_KEYS = ['TURN.password'];
/** What admins see instead of a saved secret; sending it back keeps the saved value. */
export const SECRET_MASK = '********';

type Sealed = { sealed: string };
const isSealed = (v: unknown): v is Sealed =>
  typeof v === 'object' && v !== null && typeof (v as Sealed).sealed === 'string';
const purpose = (key: string) => `policy-setting:${key}`;

@Injectable()
export class PolicySecrets {
  constructor(private readonly box: SecretBox) {}

  /**
   * The settings as stored: secrets sealed. A secret given as SECRET_MASK keeps the value saved in `previous`
   * (a 400 naming the key when there is none).
   */
  seal(settings: PolicySettings, previous: PolicySettings = {}): PolicySettings {
    const out = { ...settings };
    for (const key of SECRET_KEYS) {
      const value = out[key];
      if (value === SECRET_MASK) {
        if (previous[key] === undefined) {
          throw new AppError(
            ErrorCode.VALIDATION_FAILED,
            `${key}: "${SECRET_MASK}" stands for the saved value, and there is none: send the value`,
            { field: 'settings', keys: [key] },
          );
        }
        out[key] = previous[key];
      } else if (typeof value === 'string' && value !== '') {
        out[key] = { sealed: this.box.seal(value, purpose(key)) } as never;
      }
    }
    return out;
  }

  /** The settings with secrets in clear (delivery to devices, diffs). */
  open(settings: PolicySettings): PolicySettings {
    const out = { ...settings };
    for (const key of SECRET_KEYS) {
      const value = out[key];
      if (isSealed(value)) out[key] = this.box.openText(value.sealed, purpose(key));
    }
    return out;
  }

  /** The settings as admins and the audit log see them: saved secrets masked. */
  redact(settings: PolicySettings): PolicySettings {
    const out = { ...settings };
    for (const key of SECRET_KEYS) if (out[key] !== undefined && out[key] !== '') out[key] = SECRET_MASK;
    return out;
  }
}
