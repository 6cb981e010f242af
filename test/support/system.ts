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

/** Why `command` cannot run here ("<package> is not installed …"), or undefined when it can. */
export function missingPackageReason(command: string, debianPackage: string): string | undefined {
  return findExecutable(command)
    ? undefined
    : `${debianPackage} is not installed (Debian package ${debianPackage}; bash scripts/install-system-deps.sh)`;
}
