// `configure`: what upstream's configure_cmd.go does (teleport-event-handler.md §1.1), with one
// deliberate difference: without a terminal we refuse to touch a directory that already holds
// any of the nine files, instead of silently keeping the old ones (upstream's prompt reads EOF
// and answers "no"), which can leave a server.key that no longer matches the passphrase written
// into a new fluent.conf. `--force` overwrites without asking.
import { randomBytes } from 'node:crypto';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { basename, join, normalize, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { encodePair, generateMtlsCerts, resolveIpSans } from '../../pki/index.ts';
import type { KeyLength, KeyPair } from '../../pki/index.ts';
import { ExporterError } from '../errors.ts';
import { renderFluentConf, renderRoleYaml, renderToml } from './configure-templates.ts';

export const ROLE_FILE = 'teleport-event-handler-role.yaml';
export const FLUENT_CONF_FILE = 'fluent.conf';
export const TOML_FILE = 'teleport-event-handler.toml';
const GUIDE_URL = 'https://goteleport.com/docs/management/export-audit-events/fluentd/';
const FILE_MODE = 0o600;

export interface ConfigureOptions {
  readonly out: string;
  readonly addr: string;
  readonly caName: string;
  readonly serverName: string;
  readonly clientName: string;
  readonly ttlMs: number;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly bits: KeyLength;
  readonly serverCn: string;
  readonly force: boolean;
}

export interface ConfigureIo {
  readonly cwd: string;
  readonly stdin: Readable & { isTTY?: boolean; fd?: number };
  readonly stdout: Writable;
  /** Shown in the first line, `Teleport event handler <version>`. */
  readonly version: string;
}

/** Upstream's cleanupPaths: relative to the cwd, absolute when the relative form has "..". */
function displayPath(cwd: string, p: string): string {
  const r = normalize(relative(cwd, p)) || '.';
  return r.includes('..') ? resolve(cwd, r) : r;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Upstream's getPwd: stdin that is not a character device (a pipe or a file) is read to EOF and
 * used as it is, trailing newline included; otherwise 32 random bytes in hex.
 * Returned as a binary string so every piped byte reaches the key and fluent.conf unchanged.
 */
async function readPassphrase(stdin: ConfigureIo['stdin']): Promise<string> {
  const fd = stdin.fd ?? 0;
  let isCharDevice = stdin.isTTY === true;
  try {
    isCharDevice = fstatSync(fd).isCharacterDevice();
  } catch {
    // An fd we cannot stat (closed stdin) behaves as no input: random passphrase.
    isCharDevice = true;
  }
  if (isCharDevice) return randomBytes(32).toString('hex');
  const parts: Buffer[] = [];
  for await (const part of stdin) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as string));
  return Buffer.concat(parts).toString('latin1');
}

export async function runConfigure(opts: ConfigureOptions, io: ConfigureIo): Promise<void> {
  // kong's existingdir makes <out> absolute, which is why the TOML carries absolute paths.
  const out = resolve(io.cwd, opts.out);
  const outStat = await stat(out).catch(() => undefined);
  if (outStat === undefined || !outStat.isDirectory()) {
    throw new ExporterError(
      'AR_EXPORTER_OUT_DIR',
      `configure: <out> '${opts.out}' ${outStat === undefined ? 'does not exist' : 'is not a directory'}; ` +
        `create the directory first (e.g. mkdir -p ${opts.out})`,
    );
  }
  const pairPaths = (name: string) => ({ crt: join(out, name) + '.crt', key: join(out, name) + '.key' });
  const caPaths = pairPaths(opts.caName);
  const serverPaths = pairPaths(opts.serverName);
  const clientPaths = pairPaths(opts.clientName);
  const rolePath = join(out, ROLE_FILE);
  const fluentPath = join(out, FLUENT_CONF_FILE);
  const tomlPath = join(out, TOML_FILE);
  const allPaths = [
    caPaths.crt, caPaths.key, serverPaths.crt, serverPaths.key, clientPaths.crt, clientPaths.key,
    rolePath, fluentPath, tomlPath,
  ];

  const interactive = io.stdin.isTTY === true;
  if (!opts.force && !interactive) {
    const existing: string[] = [];
    for (const p of allPaths) if (await exists(p)) existing.push(displayPath(io.cwd, p));
    if (existing.length > 0) {
      throw new ExporterError(
        'AR_EXPORTER_WOULD_OVERWRITE',
        `configure: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} and stdin is not a ` +
          `terminal, so nothing was changed (keeping some old files would leave a server key that does not ` +
          `match the new fluent.conf); pass --force to overwrite them, run from a terminal to be asked ` +
          `for each, or choose an empty <out> directory`,
      );
    }
  }

  // Upstream generates (and resolves the SANs) before printing anything.
  const ips = await resolveIpSans(opts.dnsNames, opts.ips);
  const certs = await generateMtlsCerts({
    dnsNames: opts.dnsNames,
    ips,
    ttlMs: opts.ttlMs,
    bits: opts.bits,
    serverCn: opts.serverCn,
  });

  io.stdout.write(`Teleport event handler ${io.version}\n\n`);
  const passphrase = await readPassphrase(io.stdin);

  const prompt = interactive && !opts.force ? createInterface({ input: io.stdin, output: io.stdout }) : undefined;
  try {
    // Upstream's askOverwrite + lib.AskYesNo (promptui confirm): only an exact "y" overwrites.
    const mayWrite = async (p: string): Promise<boolean> => {
      if (prompt === undefined || !(await exists(p))) return true;
      const answer = await prompt
        .question(`\x1b[34m?\x1b[0m \x1b[1mDo you want to overwrite ${p}\x1b[0m? \x1b[2m[y/N]\x1b[0m `)
        .catch(() => '');
      return answer === 'y';
    };
    const writeOne = async (p: string, content: string, encoding: BufferEncoding = 'utf8') => {
      await writeFile(p, content, { mode: FILE_MODE, encoding });
      // writeFile's mode only applies to a new file; an overwritten one must not stay readable.
      await chmod(p, FILE_MODE);
    };
    const writePair = async (paths: { crt: string; key: string }, pair: KeyPair, pwd?: string) => {
      // As upstream: the question is about the .key; "no" keeps both files of the pair.
      if (!(await mayWrite(paths.key))) return;
      const pem = encodePair(pair, pwd);
      await writeOne(paths.crt, pem.certPem);
      await writeOne(paths.key, pem.keyPem, 'latin1');
    };
    let step = 1;
    const printStep = (msg: string) => io.stdout.write(`[${step++}] ${msg}\n`);

    await writePair(caPaths, certs.ca);
    await writePair(serverPaths, certs.server, passphrase);
    await writePair(clientPaths, certs.client);
    // The wording of the 16.4.8 guide (teleport-event-handler.md §1.1).
    const pairList = allPaths.slice(0, 6).map((p) => displayPath(io.cwd, p));
    printStep(`mTLS Fluentd certificates generated and saved to ${pairList.join(', ')}`);

    if (await mayWrite(rolePath)) await writeOne(rolePath, renderRoleYaml());
    printStep(`Generated sample teleport-event-handler role and user file ${displayPath(io.cwd, rolePath)}`);

    const fluentConf = renderFluentConf({
      caCertFileName: basename(caPaths.crt),
      serverCertFileName: basename(serverPaths.crt),
      serverKeyFileName: basename(serverPaths.key),
      passphrase,
    });
    // latin1: the template is ASCII and the passphrase a binary string, so its bytes pass through.
    if (await mayWrite(fluentPath)) await writeOne(fluentPath, fluentConf, 'latin1');
    printStep(`Generated sample fluentd configuration file ${displayPath(io.cwd, fluentPath)}`);

    const toml = renderToml({
      caCertPath: caPaths.crt,
      clientCertPath: clientPaths.crt,
      clientKeyPath: clientPaths.key,
      addr: opts.addr,
    });
    if (await mayWrite(tomlPath)) await writeOne(tomlPath, toml);
    printStep(`Generated plugin configuration file ${displayPath(io.cwd, tomlPath)}`);
  } finally {
    prompt?.close();
  }
  io.stdout.write(`\nFollow-along with our getting started guide:\n\n${GUIDE_URL}\n`);
}

