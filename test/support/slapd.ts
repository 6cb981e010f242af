/**
 * A real OpenLDAP slapd for integration tests and benchmarks of the LDAP / Active Directory sync.
 *
 * One startSlapd() = one throw-away instance: its own directory under the OS temp dir (config rendered from
 * slapd/slapd.conf.template, two back-mdb databases, TLS files, log), listening on free ports of 127.0.0.1
 * only. Nothing of the system's slapd is used (no /etc/ldap/slapd.d, no service unit), except the schema
 * files the slapd package ships in /etc/ldap/schema. slapd runs in the foreground (-d) as the current user
 * (root included: every file it reads is ours), under `setpriv --pdeathsig KILL` so it dies with the test
 * process; stop()/destroy() signal only the pid this harness started. Its log (loglevel `stats` by default)
 * is in <dir>/slapd.log; logTail() is meant for assertion messages.
 *
 * Two trees in one server:
 *   - ldap: dc=example,dc=org, OpenLDAP-style — inetOrgPerson users under ou=people (uid RDN), groupOfNames
 *     groups under ou=groups (groupOfNames requires a member: an empty group holds the empty DN).
 *     entryUUID, entryCSN, createTimestamp and modifyTimestamp are slapd's operational attributes (request
 *     them by name or with '+'); modifyTimestamp has one-second resolution.
 *   - ad: dc=corp,dc=example, shaped like Active Directory with slapd/ad.schema — `user` objects (cn RDN)
 *     under cn=Users, `group` objects under ou=Groups, a read-only sync account under ou=Service Accounts.
 *
 * Binding: adminDn (cn=admin,dc=example,dc=org) is an ordinary entry that may read and write both trees
 * and, like any client, is held to the size limit — use it (or ad.bindDn for the AD tree, read-only) for the
 * code under test. Each database also has a rootdn (cn=manager,<suffix>, password rootPassword) which slapd
 * exempts from ACLs and limits; the harness seeds and edits through it.
 *
 * Size limit and paging: `sizelimit` (default 1000, AD's MaxPageSize) caps every non-root search, so an
 * unpaged search over more entries returns sizeLimit entries and then sizeLimitExceeded (4). The paged
 * results control (RFC 2696) may return any total (size.prtotal=unlimited). Page sizes are not capped
 * unless maxPageSize is set; then slapd refuses larger page requests with adminLimitExceeded (11),
 * "illegal pagedResults page size" — where AD would silently shrink the page.
 *
 * TLS (opts.tls): a fresh CA (EC P-256, made with the openssl CLI) signs the server certificate
 * (SAN IP:127.0.0.1 and DNS:localhost). StartTLS works on `url`, implicit TLS on `ldapsUrl`; `caPem`/`caFile`
 * are the CA. Without opts.tls slapd has no certificate and refuses StartTLS.
 *
 * How the AD-shaped tree differs from a real Active Directory:
 *   - objectGUID is an ordinary attribute: random 16 bytes from the harness (or the caller's), stored raw.
 *     AD generates it and it cannot be written. It survives renames here because nobody changes it.
 *   - uSNCreated / uSNChanged / whenChanged are set by the harness's own methods (addAdUsers, addGroup,
 *     modify, rename, setAdDisabled, addMember, removeMember) from one per-instance counter (adHighestUsn).
 *     Writes that bypass those methods (run('ldapmodify'), the code under test) do not bump them, and the
 *     rootDSE has no highestCommittedUSN.
 *   - memberOf is a plain attribute the harness keeps in step with group `member` (AD computes it as a
 *     back-link). As in AD, a membership change bumps the group's uSNChanged, not the member's.
 *     rename()/remove() also fix member/memberOf values that point at the entry, as AD's linked attributes
 *     do (without bumping uSNChanged). Groups are not nested-expanded: there is no
 *     LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941).
 *   - Large multi-valued attributes come back whole; AD returns at most 1500 values of member per read and
 *     wants range retrieval (member;range=0-1499).
 *   - remove() deletes outright: no tombstone under CN=Deleted Objects, no isDeleted, no show-deleted
 *     (1.2.840.113556.1.4.417) or DirSync (1.2.840.113556.1.4.841) control. A sync finds deletions by
 *     comparing objectGUIDs.
 *   - Simple binds need the full DN; AD also takes userPrincipalName (alice@corp.example) and CORP\alice.
 *     Passwords are userPassword {SSHA} (AD: unicodePwd, write-only, set over LDAPS).
 *   - userAccountControl is a plain integer (0x200 NORMAL_ACCOUNT, 0x2 ACCOUNTDISABLE). The bitwise filter
 *     (userAccountControl:1.2.840.113556.1.4.803:=2) works: slapd implements that matching rule.
 *   - objectCategory holds the short name (person, group), not the schema DN; filters such as
 *     (&(objectCategory=person)(objectClass=user)) behave as in AD. `user` derives from
 *     organizationalPerson, so sn is required (the harness defaults it to sAMAccountName).
 *   - DNs come back as written (cn=...,dc=corp,dc=example), not upper-cased: compare DNs case-insensitively.
 *   - The domain root is a plain `domain` entry: no objectSid, primaryGroupID, domainDNS, or other AD schema.
 *     `computer` exists (an empty subclass of user) only so that (!(objectClass=computer)) can match: slapd
 *     evaluates a filter on an unknown object class as Undefined, and NOT Undefined matches nothing.
 *   - Like slapd here, AD ends an unpaged search over MaxPageSize (1000) with sizeLimitExceeded; see the
 *     paging note above for the page-size difference.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { findExecutable, skipReasonOrFailInCi, SYSTEM_PATH } from './system';
import {
  adTime,
  Attrs,
  Changes,
  escapeDnValue,
  escapeFilterValue,
  isUnder,
  ldifEntry,
  ldifModify,
  LdifEntry,
  normalizeDn,
  parentDn,
  parseLdif,
  sshaHash,
} from './slapd/ldif';

export { escapeDnValue, escapeFilterValue, firstRdn, LdifEntry, parentDn, parseLdif, sshaHash } from './slapd/ldif';
export type { AttrValue, AttrValues, Attrs, Changes } from './slapd/ldif';

export const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';
const TEMPLATE = path.join(__dirname, 'slapd', 'slapd.conf.template');
const AD_SCHEMA = path.join(__dirname, 'slapd', 'ad.schema');
const LDAP_TOOLS = [
  'ldapsearch',
  'ldapadd',
  'ldapmodify',
  'ldapmodrdn',
  'ldapdelete',
  'ldapwhoami',
  'ldappasswd',
  'ldapcompare',
] as const;
export type LdapTool = (typeof LDAP_TOOLS)[number];

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;
const TOOL_TIMEOUT_MS = 300_000;
/** addLdapUsers/addAdUsers load this many users or more with slapadd (slapd stopped meanwhile). */
export const BULK_THRESHOLD = 1000;
/** First uSN the AD-shaped tree hands out (a fresh AD domain is in the low thousands too). */
const FIRST_USN = 12_000;

/** AD userAccountControl flags the harness uses. */
export const UAC = { ACCOUNTDISABLE: 0x2, NORMAL_ACCOUNT: 0x200, DONT_EXPIRE_PASSWORD: 0x10000 } as const;
/** groupType of an AD global security group (GLOBAL_GROUP | SECURITY_ENABLED). */
export const AD_GLOBAL_SECURITY_GROUP = -2147483646;

export type TreeName = 'ldap' | 'ad';

export interface SlapdOptions {
  /** Make a CA and a server certificate; serve StartTLS on url and implicit TLS on ldapsUrl. Default false. */
  tls?: boolean;
  /** Entries a non-root search may return without paging. Default 1000 (AD's MaxPageSize). */
  sizeLimit?: number;
  /** Largest page a paged search may ask for (slapd `size.pr`); larger requests fail with 11. Default: none. */
  maxPageSize?: number;
  /** slapd -d level (written to <dir>/slapd.log). Default 'stats' (one line per connection and operation). */
  logLevel?: string;
  /** Keep the instance directory after destroy() and at process exit (for post-mortems). */
  keepDir?: boolean;
}

export interface LdapUser {
  /** The RDN: uid=<uid>,ou=people,dc=example,dc=org. */
  uid: string;
  givenName?: string;
  /** Default: uid. */
  sn?: string;
  /** Default: "<givenName> <sn>", or uid. */
  cn?: string;
  mail?: string;
  telephoneNumber?: string;
  jpegPhoto?: Buffer;
  /** Stored as {SSHA}. No password: the user cannot bind. */
  password?: string;
  /** Anything else, written as given (e.g. displayName, employeeNumber). */
  attributes?: Attrs;
}

export interface AdUser {
  sAMAccountName: string;
  /** The RDN: cn=<cn>,cn=Users,dc=corp,dc=example. Default: displayName, "<givenName> <sn>", or sAMAccountName. */
  cn?: string;
  givenName?: string;
  /** Required by this schema (optional in AD). Default: sAMAccountName. */
  sn?: string;
  displayName?: string;
  /** Default: <sAMAccountName>@corp.example. */
  userPrincipalName?: string;
  mail?: string;
  telephoneNumber?: string;
  /** 16 bytes. Default: random. */
  objectGUID?: Buffer;
  /** Default: 0x200 (NORMAL_ACCOUNT), plus 0x2 when disabled. */
  userAccountControl?: number;
  disabled?: boolean;
  thumbnailPhoto?: Buffer;
  password?: string;
  /** Anything else, written as given. memberOf values given here are not mirrored into groups. */
  attributes?: Attrs;
}

export interface AddedAdUser {
  dn: string;
  sAMAccountName: string;
  objectGUID: Buffer;
  uSNChanged: number;
}

export interface SeedOptions {
  /**
   * 'ldapadd': one ldapadd of the whole LDIF while slapd runs (connections stay up).
   * 'slapadd': stop slapd, slapadd -q, start it again (clients are disconnected; several times faster).
   * Default: slapadd from BULK_THRESHOLD users on, else ldapadd. With slapd stopped: always slapadd.
   */
  via?: 'ldapadd' | 'slapadd';
}

export interface ToolResult {
  /** Exit status; -1 when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Give LDAPTLS_CACERT=caFile (default true); false = trust only the system store, as a stranger would. */
  trustCa?: boolean;
  /** Extra environment (e.g. LDAPTLS_REQCERT). */
  env?: Record<string, string>;
}

export interface SearchOptions {
  scope?: 'base' | 'one' | 'sub';
  attrs?: string[];
  /** Default: the rootdn of the tree holding base (no ACLs, no size limit). */
  bind?: { dn: string; password: string };
  /** Page size for the paged results control. */
  pageSize?: number;
}

export interface SlapdTree {
  baseDn: string;
  usersDn: string;
  groupsDn: string;
  /** The database's rootdn (password: Slapd.rootPassword). Exempt from ACLs and limits. */
  rootDn: string;
}

export interface Slapd {
  /** ldap://127.0.0.1:<port> (StartTLS there when tls). */
  readonly url: string;
  readonly port: number;
  /** ldaps://127.0.0.1:<tlsPort>, when tls. */
  readonly ldapsUrl?: string;
  readonly tlsPort?: number;
  /** PEM of the throw-away CA that signed slapd's certificate, when tls. */
  readonly caPem?: string;
  readonly caFile?: string;
  /** cn=admin,dc=example,dc=org: reads and writes both trees; subject to the size limit. */
  readonly adminDn: string;
  readonly adminPassword: string;
  readonly rootPassword: string;
  readonly sizeLimit: number;
  readonly ldap: SlapdTree & { baseDn: 'dc=example,dc=org' };
  readonly ad: SlapdTree & {
    baseDn: 'dc=corp,dc=example';
    /** The UPN suffix: <sAMAccountName>@corp.example. */
    domain: 'corp.example';
    /** A `user` outside cn=Users that may read (not write) the AD tree; subject to the size limit. */
    bindDn: string;
    bindPassword: string;
  };
  /** The instance directory (config, databases, TLS files, slapd.log). */
  readonly dir: string;
  readonly running: boolean;
  /** Highest uSNChanged the harness has handed out so far. */
  readonly adHighestUsn: number;
  readonly timings: { startMs: number[] };

  ldapUserDn(uid: string): string;
  /** DN of an AD user by cn (the RDN). */
  adUserDn(cn: string): string;
  groupDn(tree: TreeName, cn: string): string;
  /** Looks up an AD user's DN by sAMAccountName. */
  findAdUserDn(sAMAccountName: string): Promise<string>;

  addLdapUsers(users: readonly LdapUser[], opts?: SeedOptions): Promise<string[]>;
  addAdUsers(users: readonly AdUser[], opts?: SeedOptions): Promise<AddedAdUser[]>;
  /** Adds a group (groupOfNames or AD group) with these member DNs; in AD, also memberOf on each member. */
  addGroup(tree: TreeName, cn: string, memberDns?: readonly string[]): Promise<string>;
  addMember(groupDn: string, memberDn: string): Promise<void>;
  removeMember(groupDn: string, memberDn: string): Promise<void>;
  /** ldapmodify as rootdn; in the AD tree uSNChanged/whenChanged are bumped too (unless bumpUsn: false). */
  modify(dn: string, changes: Changes, opts?: { bumpUsn?: boolean }): Promise<void>;
  /** modrdn (old RDN value removed); returns the new DN. References in member/memberOf follow. */
  rename(dn: string, newRdn: string, opts?: { newSuperior?: string }): Promise<string>;
  /** Deletes a leaf entry and the member/memberOf values that point at it. */
  remove(dn: string): Promise<void>;
  /** Sets or clears 0x2 in userAccountControl and bumps uSNChanged. */
  setAdDisabled(dnOrSam: string, disabled: boolean): Promise<void>;

  /** Search (ldapsearch -LLL); throws on any result but success. */
  search(base: string, filter: string, opts?: SearchOptions): Promise<LdifEntry[]>;
  /** Any ldap-utils tool with this instance's client environment; never throws on a non-zero exit. */
  run(tool: LdapTool, args: readonly string[], opts?: RunOptions): Promise<ToolResult>;
  /** The environment run() gives the tools (no ~/.ldaprc; LDAPTLS_CACERT when trustCa). */
  toolEnv(opts?: { trustCa?: boolean }): Record<string, string>;

  /** Stops slapd (SIGTERM, SIGKILL after 10 s); data, ports and directory stay. */
  stop(): Promise<void>;
  /** Starts the same instance again, on the same ports, with its data; resolves once it answers. */
  start(): Promise<void>;
  /** Stops slapd and deletes the instance directory (unless keepDir). Idempotent. */
  destroy(): Promise<void>;

  /** The whole slapd log (every run). */
  log(): string;
  logTail(chars?: number): string;
}

let availability: string | null | undefined;

/** Undefined when the harness can run here, else why not (the reason to pass to t.skip). */
export function slapdAvailable(): string | undefined {
  if (availability === undefined) {
    const missing: string[] = [];
    if (!findExecutable(SLAPD) || !findExecutable(SLAPADD)) missing.push('slapd');
    if (LDAP_TOOLS.some((t) => !findExecutable(t))) missing.push('ldap-utils');
    if (!findExecutable('openssl')) missing.push('openssl');
    const files = [`${SCHEMA_DIR}/core.schema`, `${SCHEMA_DIR}/cosine.schema`, `${SCHEMA_DIR}/inetorgperson.schema`];
    if (!missing.includes('slapd') && !files.every((f) => fs.existsSync(f))) missing.push('slapd (schema files)');
    if (!missing.includes('slapd') && !fs.existsSync(path.join(MODULE_DIR, 'back_mdb.so'))) {
      missing.push('slapd (back_mdb module)');
    }
    availability = missing.length
      ? `not installed: ${missing.join(', ')} (apt-get install slapd ldap-utils, or scripts/install-system-deps.sh)`
      : null;
  }
  return skipReasonOrFailInCi(availability ?? undefined);
}

function runProcess(
  command: string,
  args: readonly string[],
  opts: { input?: string | Buffer; env: Record<string, string>; cwd?: string; timeoutMs?: number },
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? TOOL_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // the tool may exit before reading all of its input
    child.stdin.end(opts.input ?? '');
  });
}

function describe(cmd: string, res: ToolResult): string {
  return `${cmd} exited with ${res.code}: ${(res.stderr || res.stdout).trim().slice(-4000)}`;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const res = await runProcess('openssl', args, { env: { PATH: SYSTEM_PATH }, cwd: dir });
  if (res.code !== 0) throw new Error(describe(`openssl ${args[0]}`, res));
}

/** A CA and a server certificate for 127.0.0.1 / localhost, valid for two days. */
async function makeTls(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  fs.mkdirSync(dir, { mode: 0o700 });
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const tag = randomBytes(4).toString('hex');
  await openssl(dir, ['genpkey', ...ec, '-out', 'ca.key']);
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/O=Enclave tests/CN=Enclave test slapd CA ${tag}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.pem',
  ]);
  await openssl(dir, ['genpkey', ...ec, '-out', 'server.key']);
  await openssl(dir, [
    'req',
    '-new',
    '-key',
    'server.key',
    '-subj',
    '/O=Enclave tests/CN=127.0.0.1',
    '-out',
    'server.csr',
  ]);
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  ]);
  return {
    caFile: path.join(dir, 'ca.pem'),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server.key'),
  };
}

function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`slapd.conf.template: no value for {{${key}}}`);
    return v;
  });
}

/** slapd.conf quoting: a double-quoted string with \ and " escaped. */
function confQuote(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const live = new Set<SlapdInstance>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const inst of live) inst.killNow();
  });
}

class SlapdInstance implements Slapd {
  readonly url: string;
  readonly ldapsUrl?: string;
  caPem?: string;
  caFile?: string;
  readonly adminDn = 'cn=admin,dc=example,dc=org';
  readonly adminPassword = `admin-${randomBytes(12).toString('base64url')}`;
  readonly rootPassword = `root-${randomBytes(12).toString('base64url')}`;
  readonly ldap = {
    baseDn: 'dc=example,dc=org',
    usersDn: 'ou=people,dc=example,dc=org',
    groupsDn: 'ou=groups,dc=example,dc=org',
    rootDn: 'cn=manager,dc=example,dc=org',
  } as const;
  readonly ad = {
    baseDn: 'dc=corp,dc=example',
    usersDn: 'cn=Users,dc=corp,dc=example',
    groupsDn: 'ou=Groups,dc=corp,dc=example',
    rootDn: 'cn=manager,dc=corp,dc=example',
    domain: 'corp.example',
    bindDn: 'cn=enclave-sync,ou=Service Accounts,dc=corp,dc=example',
    bindPassword: `sync-${randomBytes(12).toString('base64url')}`,
  } as const;
  readonly timings = { startMs: [] as number[] };
  readonly sizeLimit: number;

  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private usn = FIRST_USN;
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;
  private readonly confFile: string;
  private readonly logFile: string;
  private readonly logLevel: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    private readonly opts: SlapdOptions,
  ) {
    this.url = `ldap://127.0.0.1:${port}`;
    if (tlsPort !== undefined) this.ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
    this.sizeLimit = opts.sizeLimit ?? 1000;
    this.logLevel = opts.logLevel ?? 'stats';
    this.confFile = path.join(dir, 'slapd.conf');
    this.logFile = path.join(dir, 'slapd.log');
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get adHighestUsn(): number {
    return this.usn;
  }

  // ---- set-up -------------------------------------------------------------------------------------------

  async init(): Promise<void> {
    let tlsConfig = '# no TLS (startSlapd without tls): StartTLS is refused';
    if (this.opts.tls) {
      const tls = await makeTls(path.join(this.dir, 'tls'));
      this.caFile = tls.caFile;
      this.caPem = fs.readFileSync(tls.caFile, 'utf8');
      tlsConfig = [
        `TLSCACertificateFile "${confQuote(tls.caFile)}"`,
        `TLSCertificateFile "${confQuote(tls.certFile)}"`,
        `TLSCertificateKeyFile "${confQuote(tls.keyFile)}"`,
      ].join('\n');
    }
    const limit = String(this.sizeLimit);
    const sizeLimitLine = [
      `size.soft=${limit}`,
      `size.hard=${limit}`,
      ...(this.opts.maxPageSize !== undefined ? [`size.pr=${this.opts.maxPageSize}`] : []),
      'size.prtotal=unlimited',
    ].join(' ');
    const conf = renderTemplate(fs.readFileSync(TEMPLATE, 'utf8'), {
      SCHEMA_DIR: confQuote(SCHEMA_DIR),
      AD_SCHEMA: confQuote(AD_SCHEMA),
      DIR: confQuote(this.dir),
      MODULE_DIR: confQuote(MODULE_DIR),
      TLS_CONFIG: tlsConfig,
      SIZE_LIMIT: limit,
      SIZE_LIMIT_DIRECTIVE: sizeLimitLine,
      ROOT_PASSWORD_HASH: sshaHash(this.rootPassword),
      ADMIN_DN: this.adminDn,
    });
    fs.writeFileSync(this.confFile, conf, { mode: 0o600 });
    fs.mkdirSync(path.join(this.dir, 'db-ldap'), { mode: 0o700 });
    fs.mkdirSync(path.join(this.dir, 'db-ad'), { mode: 0o700 });
    await this.slapadd(this.ldap.baseDn, this.ldapBaseLdif());
    await this.slapadd(this.ad.baseDn, this.adBaseLdif());
  }

  private ldapBaseLdif(): string {
    return [
      ldifEntry(this.ldap.baseDn, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' }),
      ldifEntry(this.adminDn, {
        objectClass: ['top', 'organizationalRole', 'simpleSecurityObject'],
        cn: 'admin',
        description: 'Enclave test admin: reads and writes both trees',
        userPassword: sshaHash(this.adminPassword),
      }),
      ldifEntry(this.ldap.usersDn, { objectClass: ['top', 'organizationalUnit'], ou: 'people' }),
      ldifEntry(this.ldap.groupsDn, { objectClass: ['top', 'organizationalUnit'], ou: 'groups' }),
    ].join('');
  }

  private adStamp(created = true): Attrs {
    const usn = ++this.usn;
    const now = adTime();
    return created
      ? { uSNCreated: usn, uSNChanged: usn, whenCreated: now, whenChanged: now }
      : { uSNChanged: usn, whenChanged: now };
  }

  private adBaseLdif(): string {
    return [
      ldifEntry(this.ad.baseDn, { objectClass: ['top', 'domain'], dc: 'corp' }),
      ldifEntry(this.ad.usersDn, {
        objectClass: ['top', 'container'],
        cn: 'Users',
        description: 'Default container for upgraded user accounts',
        objectGUID: randomBytes(16),
        ...this.adStamp(),
      }),
      ldifEntry(this.ad.groupsDn, { objectClass: ['top', 'organizationalUnit'], ou: 'Groups' }),
      ldifEntry(parentDn(this.ad.bindDn), { objectClass: ['top', 'organizationalUnit'], ou: 'Service Accounts' }),
      ldifEntry(this.ad.bindDn, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        cn: 'enclave-sync',
        sn: 'enclave-sync',
        sAMAccountName: 'enclave-sync',
        userPrincipalName: `enclave-sync@${this.ad.domain}`,
        objectGUID: randomBytes(16),
        userAccountControl: UAC.NORMAL_ACCOUNT | UAC.DONT_EXPIRE_PASSWORD,
        objectCategory: 'person',
        userPassword: sshaHash(this.ad.bindPassword),
        ...this.adStamp(),
      }),
    ].join('');
  }

  // ---- process ------------------------------------------------------------------------------------------

  private async doStart(): Promise<void> {
    if (this.child) return;
    if (this.destroyed) throw new Error('slapd harness: start() after destroy()');
    const began = Date.now();
    const urls = [this.url, ...(this.ldapsUrl ? [this.ldapsUrl] : [])].map((u) => `${u}/`).join(' ');
    const args = ['-d', this.logLevel, '-f', this.confFile, '-h', urls];
    const logFd = fs.openSync(this.logFile, 'a');
    fs.writeSync(logFd, `\n[harness] ${new Date().toISOString()} starting slapd ${args.join(' ')}\n`);
    const setpriv = findExecutable('setpriv');
    let child: ChildProcess;
    try {
      child = setpriv
        ? spawn(setpriv, ['--pdeathsig', 'KILL', SLAPD, ...args], {
            stdio: ['ignore', logFd, logFd],
            env: { PATH: SYSTEM_PATH },
          })
        : spawn(SLAPD, args, { stdio: ['ignore', logFd, logFd], env: { PATH: SYSTEM_PATH } });
    } finally {
      fs.closeSync(logFd);
    }
    let exitInfo: string | undefined;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        exitInfo = `cannot start: ${err.message}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `killed by ${signal}` : `exited with ${code}`;
        if (this.child === child) this.child = undefined;
        fs.appendFileSync(this.logFile, `[harness] slapd pid ${child.pid} ${exitInfo}\n`);
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exitInfo !== undefined) throw new Error(`slapd ${exitInfo} while starting:\n${this.logTail()}`);
      if (await this.answers()) break;
      if (Date.now() > deadline) {
        await this.doStop();
        throw new Error(`slapd did not answer on ${this.url} within ${READY_TIMEOUT_MS} ms:\n${this.logTail()}`);
      }
      await sleep(25);
    }
    this.timings.startMs.push(Date.now() - began);
  }

  /** The rootDSE answers on every listener. */
  private async answers(): Promise<boolean> {
    if (!(await canConnect(this.port))) return false;
    for (const url of [this.url, ...(this.ldapsUrl ? [this.ldapsUrl] : [])]) {
      const res = await this.run('ldapsearch', ['-x', '-H', url, '-LLL', '-b', '', '-s', 'base', '1.1']);
      if (res.code !== 0) return false;
    }
    return true;
  }

  private async doStop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited!.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut && this.child === child) {
      fs.appendFileSync(this.logFile, `[harness] slapd ignored SIGTERM for ${STOP_GRACE_MS} ms: SIGKILL\n`);
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Synchronous last resort at process exit: SIGKILL our own pid, remove our directory. */
  killNow(): void {
    if (this.child?.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!this.opts.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  start(): Promise<void> {
    return this.exclusive(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.exclusive(() => this.doStop());
  }

  destroy(): Promise<void> {
    return this.exclusive(async () => {
      if (this.destroyed) return;
      await this.doStop();
      this.destroyed = true;
      live.delete(this);
      if (!this.opts.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
    });
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(chars = 4000): string {
    try {
      const fd = fs.openSync(this.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const len = Math.min(size, chars);
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, size - len);
        return (size > len ? '…' : '') + buf.toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return '(no slapd log)';
    }
  }

  // ---- tools --------------------------------------------------------------------------------------------

  toolEnv(opts: { trustCa?: boolean } = {}): Record<string, string> {
    const env: Record<string, string> = {
      PATH: SYSTEM_PATH,
      // No ~/.ldaprc or ./ldaprc of whoever runs the tests; /etc/ldap/ldap.conf is still read by libldap,
      // so everything that matters is given explicitly (URLs and bases on the command line, TLS here).
      HOME: this.dir,
      LDAPRC: 'enclave-test-no-ldaprc',
      LDAPTLS_REQCERT: 'demand',
    };
    if (this.caFile && opts.trustCa !== false) env.LDAPTLS_CACERT = this.caFile;
    return env;
  }

  run(tool: LdapTool, args: readonly string[], opts: RunOptions = {}): Promise<ToolResult> {
    if (!LDAP_TOOLS.includes(tool)) throw new Error(`not an ldap-utils tool: ${tool}`);
    const command = findExecutable(tool) ?? tool;
    return runProcess(command, args, {
      input: opts.input,
      env: { ...this.toolEnv({ trustCa: opts.trustCa }), ...opts.env },
      cwd: this.dir,
    });
  }

  private treeOf(dn: string): TreeName {
    if (isUnder(dn, this.ldap.baseDn)) return 'ldap';
    if (isUnder(dn, this.ad.baseDn)) return 'ad';
    throw new Error(`${dn} is in neither test tree (${this.ldap.baseDn}, ${this.ad.baseDn})`);
  }

  private rootArgs(tree: TreeName): string[] {
    const rootDn = tree === 'ldap' ? this.ldap.rootDn : this.ad.rootDn;
    return ['-x', '-H', this.url, '-D', rootDn, '-w', this.rootPassword];
  }

  private async mustRun(tool: LdapTool, args: string[], input?: string): Promise<ToolResult> {
    if (!this.child) throw new Error(`slapd is stopped: cannot run ${tool}`);
    const res = await this.run(tool, args, { input });
    if (res.code !== 0) throw new Error(`${describe(tool, res)}\nslapd log:\n${this.logTail(2000)}`);
    return res;
  }

  async search(base: string, filter: string, opts: SearchOptions = {}): Promise<LdifEntry[]> {
    const auth = opts.bind
      ? ['-x', '-H', this.url, '-D', opts.bind.dn, '-w', opts.bind.password]
      : this.rootArgs(base === '' ? 'ldap' : this.treeOf(base));
    const args = [...auth, '-LLL', '-o', 'ldif-wrap=no', '-b', base, '-s', opts.scope ?? 'sub'];
    if (opts.pageSize !== undefined) args.push('-E', `pr=${opts.pageSize}/noprompt`);
    args.push(filter, ...(opts.attrs ?? []));
    const res = await this.mustRun('ldapsearch', args);
    return parseLdif(res.stdout);
  }

  // ---- seeding ------------------------------------------------------------------------------------------

  private async slapadd(suffix: string, ldif: string): Promise<void> {
    const file = path.join(this.dir, `seed-${randomBytes(4).toString('hex')}.ldif`);
    fs.writeFileSync(file, ldif, { mode: 0o600 });
    try {
      const res = await runProcess(SLAPADD, ['-q', '-f', this.confFile, '-b', suffix, '-l', file], {
        env: { PATH: SYSTEM_PATH },
        cwd: this.dir,
      });
      if (res.code !== 0) throw new Error(describe('slapadd', res));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Adds entries with ldapadd (running) or slapadd (stopped meanwhile). */
  private async load(tree: TreeName, ldif: string, count: number, opts: SeedOptions): Promise<void> {
    const via = !this.child ? 'slapadd' : (opts.via ?? (count >= BULK_THRESHOLD ? 'slapadd' : 'ldapadd'));
    if (via === 'ldapadd') {
      await this.mustRun('ldapadd', this.rootArgs(tree), ldif);
      return;
    }
    const wasRunning = this.running;
    await this.doStop();
    try {
      await this.slapadd(tree === 'ldap' ? this.ldap.baseDn : this.ad.baseDn, ldif);
    } finally {
      if (wasRunning) await this.doStart();
    }
  }

  ldapUserDn(uid: string): string {
    return `uid=${escapeDnValue(uid)},${this.ldap.usersDn}`;
  }

  adUserDn(cn: string): string {
    return `cn=${escapeDnValue(cn)},${this.ad.usersDn}`;
  }

  groupDn(tree: TreeName, cn: string): string {
    return `cn=${escapeDnValue(cn)},${tree === 'ldap' ? this.ldap.groupsDn : this.ad.groupsDn}`;
  }

  addLdapUsers(users: readonly LdapUser[], opts: SeedOptions = {}): Promise<string[]> {
    return this.exclusive(async () => {
      const dns: string[] = [];
      const chunks: string[] = [];
      for (const u of users) {
        const dn = this.ldapUserDn(u.uid);
        const sn = u.sn ?? u.uid;
        dns.push(dn);
        chunks.push(
          ldifEntry(dn, {
            objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
            uid: u.uid,
            cn: u.cn ?? (u.givenName ? `${u.givenName} ${sn}` : u.uid),
            sn,
            givenName: u.givenName,
            mail: u.mail,
            telephoneNumber: u.telephoneNumber,
            jpegPhoto: u.jpegPhoto,
            userPassword: u.password === undefined ? undefined : sshaHash(u.password),
            ...u.attributes,
          }),
        );
      }
      if (users.length) await this.load('ldap', chunks.join(''), users.length, opts);
      return dns;
    });
  }

  addAdUsers(users: readonly AdUser[], opts: SeedOptions = {}): Promise<AddedAdUser[]> {
    return this.exclusive(async () => {
      const added: AddedAdUser[] = [];
      const chunks: string[] = [];
      for (const u of users) {
        const sn = u.sn ?? u.sAMAccountName;
        const cn = u.cn ?? u.displayName ?? (u.givenName ? `${u.givenName} ${sn}` : u.sAMAccountName);
        const dn = this.adUserDn(cn);
        const objectGUID = u.objectGUID ?? randomBytes(16);
        if (objectGUID.length !== 16) throw new Error(`objectGUID of ${u.sAMAccountName} is not 16 bytes`);
        const uac = (u.userAccountControl ?? UAC.NORMAL_ACCOUNT) | (u.disabled ? UAC.ACCOUNTDISABLE : 0);
        const stamp = this.adStamp();
        added.push({ dn, sAMAccountName: u.sAMAccountName, objectGUID, uSNChanged: stamp.uSNChanged as number });
        chunks.push(
          ldifEntry(dn, {
            objectClass: ['top', 'person', 'organizationalPerson', 'user'],
            cn,
            sn,
            givenName: u.givenName,
            displayName: u.displayName,
            sAMAccountName: u.sAMAccountName,
            userPrincipalName: u.userPrincipalName ?? `${u.sAMAccountName}@${this.ad.domain}`,
            objectGUID,
            userAccountControl: uac,
            mail: u.mail,
            telephoneNumber: u.telephoneNumber,
            thumbnailPhoto: u.thumbnailPhoto,
            userPassword: u.password === undefined ? undefined : sshaHash(u.password),
            objectCategory: 'person',
            ...stamp,
            ...u.attributes,
          }),
        );
      }
      if (users.length) await this.load('ad', chunks.join(''), users.length, opts);
      return added;
    });
  }

  async findAdUserDn(sAMAccountName: string): Promise<string> {
    const found = await this.search(
      this.ad.baseDn,
      `(&(objectClass=user)(sAMAccountName=${escapeFilterValue(sAMAccountName)}))`,
      { attrs: ['1.1'] },
    );
    if (found.length !== 1) throw new Error(`${found.length} AD users have sAMAccountName=${sAMAccountName}`);
    return found[0].dn;
  }

  // ---- changes ------------------------------------------------------------------------------------------

  private async doModify(dn: string, changes: Changes, bumpUsn = true): Promise<void> {
    const tree = this.treeOf(dn);
    const empty = ![changes.replace, changes.add, changes.delete].some((o) => o && Object.keys(o).length);
    if (empty && !(tree === 'ad' && bumpUsn)) return;
    let all = changes;
    if (tree === 'ad' && bumpUsn && !Object.keys(changes.replace ?? {}).some((k) => /^usnchanged$/i.test(k))) {
      all = { ...changes, replace: { ...changes.replace, ...this.adStamp(false) } };
    }
    await this.mustRun('ldapmodify', this.rootArgs(tree), ldifModify(dn, all));
  }

  modify(dn: string, changes: Changes, opts: { bumpUsn?: boolean } = {}): Promise<void> {
    return this.exclusive(() => this.doModify(dn, changes, opts.bumpUsn ?? true));
  }

  addGroup(tree: TreeName, cn: string, memberDns: readonly string[] = []): Promise<string> {
    return this.exclusive(async () => {
      const dn = this.groupDn(tree, cn);
      const entry =
        tree === 'ldap'
          ? ldifEntry(dn, {
              objectClass: ['top', 'groupOfNames'],
              cn,
              // groupOfNames requires a member: an empty group holds the empty DN, as refint_nothing would.
              member: memberDns.length ? memberDns : [''],
            })
          : ldifEntry(dn, {
              objectClass: ['top', 'group'],
              cn,
              sAMAccountName: cn,
              objectGUID: randomBytes(16),
              groupType: AD_GLOBAL_SECURITY_GROUP,
              objectCategory: 'group',
              member: memberDns,
              ...this.adStamp(),
            });
      await this.mustRun('ldapadd', this.rootArgs(tree), entry);
      if (tree === 'ad') for (const m of memberDns) await this.doModify(m, { add: { memberOf: dn } }, false);
      return dn;
    });
  }

  addMember(groupDn: string, memberDn: string): Promise<void> {
    return this.exclusive(async () => {
      const tree = this.treeOf(groupDn);
      if (tree === 'ldap') {
        const current = (await this.search(groupDn, '(objectClass=*)', { scope: 'base', attrs: ['member'] }))[0];
        const placeholder = current?.all('member').includes('') ?? false;
        await this.doModify(groupDn, { add: { member: memberDn }, delete: placeholder ? { member: '' } : {} });
        return;
      }
      await this.doModify(groupDn, { add: { member: memberDn } });
      await this.doModify(memberDn, { add: { memberOf: groupDn } }, false);
    });
  }

  removeMember(groupDn: string, memberDn: string): Promise<void> {
    return this.exclusive(() => this.unlink(groupDn, memberDn, true));
  }

  /** Removes memberDn from the group (the empty DN keeps a groupOfNames valid); AD: memberOf too. */
  private async unlink(groupDn: string, memberDn: string, bumpUsn: boolean): Promise<void> {
    const tree = this.treeOf(groupDn);
    if (tree === 'ldap') {
      const current = (await this.search(groupDn, '(objectClass=*)', { scope: 'base', attrs: ['member'] }))[0];
      const others = (current?.all('member') ?? []).filter((m) => normalizeDn(m) !== normalizeDn(memberDn));
      await this.doModify(
        groupDn,
        others.length ? { delete: { member: memberDn } } : { replace: { member: '' } },
        bumpUsn,
      );
      return;
    }
    await this.doModify(groupDn, { delete: { member: memberDn } }, bumpUsn);
    if (isUnder(memberDn, this.ad.baseDn)) {
      await this.doModify(memberDn, { delete: { memberOf: groupDn } }, false).catch((err: Error) => {
        if (!/No such (object|attribute)|\(16\)|\(32\)/.test(err.message)) throw err;
      });
    }
  }

  /** Entries of the tree whose member (or, in AD, memberOf) points at dn. */
  private async referrers(dn: string): Promise<{ member: string[]; memberOf: string[] }> {
    const tree = this.treeOf(dn);
    const base = tree === 'ldap' ? this.ldap.baseDn : this.ad.baseDn;
    const v = escapeFilterValue(dn);
    const member = (await this.search(base, `(member=${v})`, { attrs: ['1.1'] })).map((e) => e.dn);
    const memberOf =
      tree === 'ad' ? (await this.search(base, `(memberOf=${v})`, { attrs: ['1.1'] })).map((e) => e.dn) : [];
    return { member, memberOf };
  }

  rename(dn: string, newRdn: string, opts: { newSuperior?: string } = {}): Promise<string> {
    return this.exclusive(async () => {
      const tree = this.treeOf(dn);
      const newDn = `${newRdn},${opts.newSuperior ?? parentDn(dn)}`;
      if (this.treeOf(newDn) !== tree) throw new Error(`cannot move ${dn} to the other tree`);
      const refs = await this.referrers(dn);
      const args = [...this.rootArgs(tree), '-r'];
      if (opts.newSuperior) args.push('-s', opts.newSuperior);
      await this.mustRun('ldapmodrdn', [...args, dn, newRdn]);
      if (tree === 'ad') await this.doModify(newDn, {});
      for (const g of refs.member) {
        await this.doModify(g, { delete: { member: dn }, add: { member: newDn } }, false);
      }
      for (const m of refs.memberOf) {
        await this.doModify(m, { delete: { memberOf: dn }, add: { memberOf: newDn } }, false);
      }
      return newDn;
    });
  }

  remove(dn: string): Promise<void> {
    return this.exclusive(async () => {
      const tree = this.treeOf(dn);
      const refs = await this.referrers(dn);
      await this.mustRun('ldapdelete', [...this.rootArgs(tree), dn]);
      for (const g of refs.member) await this.unlink(g, dn, false);
      for (const m of refs.memberOf) await this.doModify(m, { delete: { memberOf: dn } }, false);
    });
  }

  setAdDisabled(dnOrSam: string, disabled: boolean): Promise<void> {
    return this.exclusive(async () => {
      const dn = dnOrSam.includes('=') ? dnOrSam : await this.findAdUserDn(dnOrSam);
      const [entry] = await this.search(dn, '(objectClass=user)', { scope: 'base', attrs: ['userAccountControl'] });
      if (!entry) throw new Error(`${dn} is not an AD user`);
      const uac = Number(entry.get('userAccountControl') ?? UAC.NORMAL_ACCOUNT);
      const next = disabled ? uac | UAC.ACCOUNTDISABLE : uac & ~UAC.ACCOUNTDISABLE;
      await this.doModify(dn, { replace: { userAccountControl: next } });
    });
  }
}

/** Starts a fresh slapd (see the file comment); destroy() it when done. */
export async function startSlapd(opts: SlapdOptions = {}): Promise<Slapd> {
  const unavailable = slapdAvailable();
  if (unavailable) throw new Error(`slapd harness: ${unavailable}`);
  if (opts.sizeLimit !== undefined && !(Number.isInteger(opts.sizeLimit) && opts.sizeLimit > 0)) {
    throw new Error(`sizeLimit must be a positive integer, not ${opts.sizeLimit}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-slapd-'));
  const port = await freePort();
  let tlsPort: number | undefined;
  if (opts.tls) {
    do tlsPort = await freePort();
    while (tlsPort === port);
  }
  const inst = new SlapdInstance(dir, port, tlsPort, opts);
  installExitHook();
  live.add(inst);
  try {
    await inst.init();
    await inst.start();
  } catch (err) {
    await inst.destroy();
    throw err;
  }
  return inst;
}
