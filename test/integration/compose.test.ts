/**
 * docker-compose.yml is validated without a container engine (issue 14): it parses, uses only known keys,
 * every service has a health check, every build context, bind-mounted file, volume, network, dependency and
 * ${VARIABLE} it references exists (variables in .env.example), and the proxy is the one address the server
 * trusts for the client-certificate header.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { stopTestPostgres } from '../support/postgres';
import { startTestServer } from '../support/server';
import { findExecutable } from '../support/system';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
after(() => stopTestPostgres());

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  volumes?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string };
  ports?: string[];
  deploy?: { replicas?: number };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config: { subnet: string }[] } }>;
}

const compose = yaml.load(composeText) as Compose;

/** `VAR=` lines of .env.example, commented out or not. */
function envExampleVariables(): Map<string, { commented: boolean }> {
  const vars = new Map<string, { commented: boolean }>();
  for (const line of fs.readFileSync(path.join(root, '.env.example'), 'utf8').split('\n')) {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line.trim());
    if (m) vars.set(m[2], { commented: !!m[1] });
  }
  return vars;
}

test('the compose file parses and uses only known top-level and service keys', () => {
  const top = Object.keys(compose).filter((k) => !k.startsWith('x-'));
  assert.deepEqual(
    top.filter((k) => !['services', 'volumes', 'networks'].includes(k)),
    [],
  );
  const known = new Set([
    'image',
    'build',
    'command',
    'environment',
    'env_file',
    'volumes',
    'networks',
    'depends_on',
    'healthcheck',
    'ports',
    'deploy',
    'restart',
  ]);
  for (const [name, svc] of Object.entries(compose.services)) {
    assert.deepEqual(
      Object.keys(svc).filter((k) => !known.has(k)),
      [],
      `service ${name}`,
    );
    assert.ok(svc.image || svc.build, `service ${name} has an image or a build`);
  }
  for (const wanted of ['db', 'redis', 'ldap', 'server', 'worker', 'proxy']) {
    assert.ok(compose.services[wanted], `a ${wanted} service`);
  }
  assert.equal(compose.services.server.deploy?.replicas, 2, 'two server replicas');
  assert.equal(compose.services.server.ports, undefined, 'replicas are reached only through the proxy');
});

test('every service has a health check, and dependencies wait for health', () => {
  for (const [name, svc] of Object.entries(compose.services)) {
    const t = svc.healthcheck?.test;
    assert.ok(Array.isArray(t) && t.length > 1 && ['CMD', 'CMD-SHELL'].includes(t[0]), `service ${name} healthcheck`);
    if (t[0] === 'CMD' && t[1] === 'node') {
      assert.ok(fs.existsSync(path.join(root, t[2])), `${name}: ${t[2]} exists`);
    }
    const deps = svc.depends_on ?? {};
    for (const [dep, cond] of Object.entries(deps)) {
      assert.ok(compose.services[dep], `${name} depends on a defined service ${dep}`);
      assert.equal((cond as { condition: string }).condition, 'service_healthy', `${name} waits for ${dep} health`);
    }
  }
});

test('build contexts, bind-mounted files, volumes and networks exist', () => {
  for (const [name, svc] of Object.entries(compose.services)) {
    if (svc.build) {
      const b = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      const ctx = path.join(root, b.context);
      assert.ok(fs.statSync(ctx).isDirectory(), `${name}: build context ${b.context}`);
      assert.ok(fs.existsSync(path.join(ctx, b.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`);
    }
    for (const v of svc.volumes ?? []) {
      const source = v.split(':')[0];
      if (source.startsWith('.') || source.startsWith('/')) {
        assert.ok(fs.existsSync(path.join(root, source)), `${name}: bind-mounted ${source} exists`);
      } else {
        assert.ok(compose.volumes && source in compose.volumes, `${name}: named volume ${source} is declared`);
      }
    }
    const nets = Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {});
    for (const n of nets) assert.ok(compose.networks && n in compose.networks, `${name}: network ${n} is declared`);
    for (const f of [svc.env_file ?? []].flat()) {
      assert.equal(f, '.env', `${name}: env_file is the documented .env`);
    }
  }
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.match(readme, /cp \.env\.example \.env/, 'the README says how to create .env');
});

test('every ${VARIABLE} the compose file uses is in .env.example (required ones uncommented)', () => {
  const vars = envExampleVariables();
  const refs = [...composeText.replace(/\$\$/g, '').matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)];
  assert.ok(refs.length > 0);
  for (const [, name, modifier] of refs) {
    const entry = vars.get(name);
    assert.ok(entry, `${name} is documented in .env.example`);
    if (modifier?.startsWith(':?')) assert.equal(entry.commented, false, `${name} is required: set in .env.example`);
  }
  assert.doesNotMatch(composeText.replace(/\$\$/g, '').replace(/\$\{[^}]+\}/g, ''), /\$[A-Za-z{]/, 'no other $ syntax');
});

test('the server trusts the client-certificate header from the proxy only, and the proxy sends it', () => {
  const env = compose.services.server.environment ?? {};
  const proxyNets = compose.services.proxy.networks as Record<string, { ipv4_address?: string }>;
  const proxyIp = Object.values(proxyNets)[0]?.ipv4_address;
  assert.ok(proxyIp, 'the proxy has a fixed address');
  assert.equal(env.ENCLAVE_TRUSTED_PROXIES, proxyIp);
  const subnet = Object.values(compose.networks ?? {})[0]?.ipam?.config[0].subnet ?? '';
  assert.ok(proxyIp.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'), 'the proxy address is in the subnet');
  const caddyfile = fs.readFileSync(path.join(root, 'deploy/caddy/Caddyfile'), 'utf8');
  const header = String(env.ENCLAVE_CLIENT_CERT_HEADER);
  assert.match(caddyfile, new RegExp(`header_up -${header}\\n`), 'a client-sent header is dropped');
  assert.match(
    caddyfile,
    new RegExp(`header_up ${header} \\{http\\.request\\.tls\\.client\\.certificate_der_base64\\}`),
  );
  assert.match(caddyfile, /mode request/, 'the proxy asks devices for their certificate');
  assert.match(caddyfile, /name server\s+port 8443/, 'the proxy balances over the server replicas');
});

test('the image runs as a non-root user that owns its data volume', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const user = /^USER\s+(\S+)/m.exec(dockerfile)?.[1];
  assert.ok(user && user !== 'root' && user !== '0', 'USER is not root');
  assert.match(dockerfile, new RegExp(`chown ${user}:${user} /data`));
  assert.match(dockerfile, /^VOLUME \["\/data"\]/m);
  assert.match(dockerfile, /^HEALTHCHECK .*healthcheck\.cjs/m);
  assert.ok(dockerfile.indexOf('chown') < dockerfile.indexOf('USER'), 'ownership is set before dropping root');
});

test('the server health check script passes against a running server', async () => {
  const server = await startTestServer();
  try {
    const ok = await run(process.execPath, [path.join(root, 'scripts/healthcheck.cjs'), 'server'], {
      env: { ENCLAVE_PORT: String(server.port) },
    });
    assert.equal(ok.stderr, '');
  } finally {
    await server.close();
  }
  await assert.rejects(
    run(process.execPath, [path.join(root, 'scripts/healthcheck.cjs'), 'server'], { env: { ENCLAVE_PORT: '1' } }),
    /unhealthy/,
  );
});

/** A container engine whose compose plugin runs (the CLI alone, without the plugin, does not count). */
const engine = ['docker', 'podman']
  .map((e) => findExecutable(e))
  .find((e) => e && spawnSync(e, ['compose', 'version'], { stdio: 'ignore' }).status === 0);
test(
  'with a container engine: the compose file is accepted by `compose config`',
  {
    skip: engine
      ? false
      : 'no container engine with compose (docker or podman) on this machine: `compose config` and the bring-up are not run',
  },
  async () => {
    const dir = fs.mkdtempSync(path.join(root, '.compose-check-'));
    try {
      for (const f of ['docker-compose.yml', 'Dockerfile']) fs.copyFileSync(path.join(root, f), path.join(dir, f));
      fs.cpSync(path.join(root, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
      const env = fs
        .readFileSync(path.join(root, '.env.example'), 'utf8')
        .replace(/^(ENCLAVE_MASTER_KEY|POSTGRES_PASSWORD|LDAP_ADMIN_PASSWORD)=$/gm, '$1=' + 'a'.repeat(64));
      fs.writeFileSync(path.join(dir, '.env'), env);
      await run(engine as string, ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], { cwd: dir });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
