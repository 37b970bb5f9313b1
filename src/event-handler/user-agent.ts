// The User-Agent of every request the exporter makes (issue 14 §4): POSTs to the receiver, the
// gRPC channel to Teleport (grpc-js puts it before its own `grpc-node-js/<v>`), and the HTTP
// connection upgrade through a load balancer, so the receiver's and Teleport's logs name us.
// package.json is read, not imported: event-handler/ imports nothing above src/ (test/structure).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const USER_AGENT = `auditrelay-event-handler/${pkg.version}`;
