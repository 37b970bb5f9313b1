// The User-Agent of every request the exporter makes (issue 14 §4): POSTs to the receiver, the
// gRPC channel to Teleport (grpc-js puts it before its own `grpc-node-js/<v>`), and the HTTP
// connection upgrade through a load balancer, so the receiver's and Teleport's logs name us.
import pkg from '../../package.json' with { type: 'json' };

export const USER_AGENT = `auditrelay-event-handler/${pkg.version}`;
