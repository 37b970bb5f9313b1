// `configure`: what upstream's configure_cmd.go does (docs/compatibility-event-handler.md §1.1), with one
// deliberate difference: without a terminal we refuse to touch a directory that already holds
// any of the nine files, instead of silently keeping the old ones (upstream's prompt reads EOF
// and answers "no"), which can leave a server.key that no longer matches the passphrase written
// into a new fluent.conf. `--force` overwrites without asking.
import { randomBytes } from 'node:crypto';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { basename, dirname, join, normalize, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { encodePair, generateMtlsCerts, resolveIpSans } from '../../pki/mtls.ts';
import type { KeyLength, KeyPair, MtlsCerts } from '../../pki/mtls.ts';
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
  const paths = outputPaths(await outDir(opts.out, io.cwd), opts);
  const interactive = io.stdin.isTTY === true;
  if (!opts.force && !interactive) await refuseOverwrite(paths.all, io.cwd);

  // Upstream generates (and resolves the SANs) before printing anything; it
  // aborts on a name that does not resolve, we warn (issue 13.10).
  const ips = await resolveIpSans(opts.dnsNames, opts.ips, (m) => process.stderr.write(`WARNING: ${m}\n`));
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
    await writeFiles(paths, certs, passphrase, opts.addr, io, prompt);
  } finally {
    prompt?.close();
  }
  io.stdout.write(`\nFollow-along with our getting started guide:\n\n${GUIDE_URL}\n`);
  io.stdout.write(nextSteps(dirname(paths.fluent), paths.fluent, paths.toml));
}

/** What to run with the written files (after upstream's own lines, which stay byte-identical). */
export function nextSteps(out: string, fluent: string, toml: string): string {
  return [
    '',
    'Next steps with auditrelay:',
    `  1. Get an identity: tctl auth sign --user=teleport-event-handler --format=file --out=${out}/identity`,
    `  2. Run the receiver: bin/auditrelay -c ${fluent}`,
    `     or in Docker: docker run -u $(id -u) -v ${out}:/keys -v ${out}:/fluentd/etc -p 8888:8888 auditrelay`,
    `  3. Run the exporter: bin/auditrelay-event-handler start --config ${toml}`,
    `The files are written 0600: a container running as another uid cannot read them; run it with -u $(id -u), or chown them to its uid.`,
    '',
  ].join('\n');
}

/** kong's existingdir makes <out> absolute, which is why the TOML carries absolute paths. */
async function outDir(given: string, cwd: string): Promise<string> {
  const out = resolve(cwd, given);
  const outStat = await stat(out).catch(() => undefined);
  if (outStat === undefined || !outStat.isDirectory()) {
    throw new ExporterError(
      'AR_EXPORTER_OUT_DIR',
      `configure: <out> '${given}' ${outStat === undefined ? 'does not exist' : 'is not a directory'}; ` +
        `create the directory first (e.g. mkdir -p ${given})`,
    );
  }
  return out;
}

interface PairPaths {
  readonly crt: string;
  readonly key: string;
}

/** The nine files configure writes; `all` lists them in that order, the three pairs first. */
interface OutputPaths {
  readonly ca: PairPaths;
  readonly server: PairPaths;
  readonly client: PairPaths;
  readonly role: string;
  readonly fluent: string;
  readonly toml: string;
  readonly all: readonly string[];
}

function outputPaths(out: string, opts: ConfigureOptions): OutputPaths {
  const pairPaths = (name: string): PairPaths => ({ crt: join(out, name) + '.crt', key: join(out, name) + '.key' });
  const ca = pairPaths(opts.caName);
  const server = pairPaths(opts.serverName);
  const client = pairPaths(opts.clientName);
  const role = join(out, ROLE_FILE);
  const fluent = join(out, FLUENT_CONF_FILE);
  const toml = join(out, TOML_FILE);
  const all = [ca.crt, ca.key, server.crt, server.key, client.crt, client.key, role, fluent, toml];
  return { ca, server, client, role, fluent, toml, all };
}

/** Without a terminal (and without --force): refuse if any of the files exists. */
async function refuseOverwrite(allPaths: readonly string[], cwd: string): Promise<void> {
  const existing: string[] = [];
  for (const p of allPaths) if (await exists(p)) existing.push(displayPath(cwd, p));
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

type Prompt = ReturnType<typeof createInterface>;

/** Upstream's askOverwrite + lib.AskYesNo (promptui confirm): only an exact "y" overwrites. */
async function mayWrite(prompt: Prompt | undefined, p: string): Promise<boolean> {
  if (prompt === undefined || !(await exists(p))) return true;
  const answer = await prompt
    .question(`\x1b[34m?\x1b[0m \x1b[1mDo you want to overwrite ${p}\x1b[0m? \x1b[2m[y/N]\x1b[0m `)
    .catch(() => '');
  return answer === 'y';
}

async function writeOne(p: string, content: string, encoding: BufferEncoding = 'utf8'): Promise<void> {
  await writeFile(p, content, { mode: FILE_MODE, encoding });
  // writeFile's mode only applies to a new file; an overwritten one must not stay readable.
  await chmod(p, FILE_MODE);
}

async function writePair(prompt: Prompt | undefined, paths: PairPaths, pair: KeyPair, pwd?: string): Promise<void> {
  // As upstream: the question is about the .key; "no" keeps both files of the pair.
  if (!(await mayWrite(prompt, paths.key))) return;
  const pem = encodePair(pair, pwd);
  await writeOne(paths.crt, pem.certPem);
  await writeOne(paths.key, pem.keyPem, 'latin1');
}

async function writeFiles(paths: OutputPaths, certs: MtlsCerts, passphrase: string, addr: string, io: ConfigureIo, prompt: Prompt | undefined): Promise<void> {
  let step = 1;
  const printStep = (msg: string) => io.stdout.write(`[${step++}] ${msg}\n`);

  await writePair(prompt, paths.ca, certs.ca);
  await writePair(prompt, paths.server, certs.server, passphrase);
  await writePair(prompt, paths.client, certs.client);
  // The wording of the 16.4.8 guide (docs/compatibility-event-handler.md §1.1).
  const pairList = paths.all.slice(0, 6).map((p) => displayPath(io.cwd, p));
  printStep(`mTLS Fluentd certificates generated and saved to ${pairList.join(', ')}`);

  if (await mayWrite(prompt, paths.role)) await writeOne(paths.role, renderRoleYaml());
  printStep(`Generated sample teleport-event-handler role and user file ${displayPath(io.cwd, paths.role)}`);

  const fluentConf = renderFluentConf({
    caCertFileName: basename(paths.ca.crt),
    serverCertFileName: basename(paths.server.crt),
    serverKeyFileName: basename(paths.server.key),
    passphrase,
  });
  // latin1: the template is ASCII and the passphrase a binary string, so its bytes pass through.
  if (await mayWrite(prompt, paths.fluent)) await writeOne(paths.fluent, fluentConf, 'latin1');
  printStep(`Generated sample fluentd configuration file ${displayPath(io.cwd, paths.fluent)}`);

  const toml = renderToml({
    caCertPath: paths.ca.crt,
    clientCertPath: paths.client.crt,
    clientKeyPath: paths.client.key,
    addr,
  });
  if (await mayWrite(prompt, paths.toml)) await writeOne(paths.toml, toml);
  printStep(`Generated plugin configuration file ${displayPath(io.cwd, paths.toml)}`);
}
