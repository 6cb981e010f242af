import { AppError, ErrorCode } from '../../common/app-error';

/** Jami's name rules: what old clients can look up (`[a-z0-9_-]{3,32}` after lower-casing). */
export const USERNAME_PATTERN = /^[a-z0-9_-]{3,32}$/;

export function normalizeUsername(raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) {
    throw new AppError(
      ErrorCode.USERNAME_INVALID,
      `Username "${raw.slice(0, 64)}" is invalid: use 3 to 32 characters among a-z, 0-9, "_" and "-"`,
    );
  }
  return username;
}

export const MIN_PASSWORD_LENGTH = 8;

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError(ErrorCode.PASSWORD_TOO_SHORT, `Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}
