// The quickstart's S3 (issue 5 §5): an in-process s3rver keeping its objects
// under `dir` (e.g. ./.dev/s3), with the bucket already there. The seed
// config then runs unchanged except s3_endpoint/credentials; a real user
// points those at AWS or MinIO instead. s3rver accepts the fixed keys below.

import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';

export interface EmbeddedS3Options {
  /** Where objects are stored: `<dir>/<bucket>/<key>._S3rver_object`. */
  readonly dir: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly bucket: string;
  /** Default 127.0.0.1: the quickstart S3 is not for other machines. */
  readonly address?: string;
}

export interface EmbeddedS3 {
  /** e.g. http://127.0.0.1:4568 (use with force_path_style true). */
  readonly endpoint: string;
  readonly bucket: string;
  /** Credentials s3rver accepts. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Directory holding the bucket's objects. */
  readonly bucketDir: string;
  close(): Promise<void>;
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  await mkdir(options.dir, { recursive: true });
  const address = options.address ?? '127.0.0.1';
  if (options.port) await probePort(options.port, address);
  const server = new S3rver({
    address,
    port: options.port ?? 0,
    silent: true,
    directory: options.dir,
    configureBuckets: [{ name: options.bucket }],
  });
  const info = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${address}:${info.port}`,
    bucket: options.bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    bucketDir: join(options.dir, options.bucket),
    close: () => server.close() as Promise<void>,
  };
}

/**
 * s3rver's run() leaves a listen error unhandled (it crashes the process with
 * a stack): try the port first so a taken one rejects with EADDRINUSE/EACCES.
 */
function probePort(port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, address, () => probe.close(() => resolve()));
  });
}
