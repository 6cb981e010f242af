/**
 * The machine's own programs, as the harnesses run them: Debian's binaries from the system directories (not
 * whatever a developer's PATH puts first), and why a harness cannot run when one is missing.
 */
import fs from 'node:fs';
import path from 'node:path';

/** PATH for the system binaries a harness starts (dhtnode, turnserver, slapd, jamid, openssl, …). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The path of an executable (an absolute path is checked as it is), from PATH and the system directories. */
export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':'), ...SYSTEM_PATH.split(':')].filter(Boolean);
  return dirs.map((d) => path.join(d, name)).find(isExecutableFile);
}

/**
 * The skip-vs-fail rule: a harness that cannot run (a missing daemon: jamid, dhtnode, slapd, coturn, Redis,
 * Chromium) makes its tests skip with `reason`, except under CI=true, where this throws so the test fails:
 * a green CI run always means the interop suites ran. Every "why can't this harness run" helper returns
 * through here.
 */
export function skipReasonOrFailInCi(reason: string | undefined): string | undefined {
  if (reason !== undefined && process.env.CI === 'true') {
    throw new Error(`CI=true: a test needs a daemon that is missing, refusing to skip: ${reason}`);
  }
  return reason;
}

/** Why `command` cannot run here ("<package> is not installed …"), or undefined when it can (throws under CI=true). */
export function missingPackageReason(command: string, debianPackage: string): string | undefined {
  return skipReasonOrFailInCi(
    findExecutable(command)
      ? undefined
      : `${debianPackage} is not installed (Debian package ${debianPackage}; bash scripts/install-system-deps.sh)`,
  );
}
