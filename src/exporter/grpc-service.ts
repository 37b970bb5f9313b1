// The grpc-js service definitions of teleport.auditlog.v1.AuditLogService and of the one
// proto.AuthService RPC the lock feature calls (UpsertLock), built from the descriptors
// protoc-gen-es generated (src/gen), so the exporter's client and the test server share one
// definition and serialize with protobuf-es (teleport-event-handler.md §4.1, §4.5).
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { AuditLogService } from '../gen/teleport/auditlog/v1/auditlog_pb.js';
import { AuthService } from '../gen/teleport/legacy/client/proto/authservice_pb.js';
import type { LockV2 } from '../gen/teleport/legacy/types/types_pb.js';
import type {
  EventExportChunk,
  EventsUnstructured,
  EventUnstructured,
  ExportEventUnstructured,
  ExportUnstructuredEventsRequest,
  GetEventExportChunksRequest,
  GetUnstructuredEventsRequest,
  StreamUnstructuredSessionEventsRequest,
} from '../gen/teleport/auditlog/v1/auditlog_pb.js';

export {
  EventExportChunkSchema,
  EventsUnstructuredSchema,
  EventUnstructuredSchema,
  ExportEventUnstructuredSchema,
  ExportUnstructuredEventsRequestSchema,
  GetEventExportChunksRequestSchema,
  GetUnstructuredEventsRequestSchema,
  StreamUnstructuredSessionEventsRequestSchema,
  Order,
} from '../gen/teleport/auditlog/v1/auditlog_pb.js';
export { LockSpecV2Schema, LockTargetSchema, LockV2Schema, MetadataSchema } from '../gen/teleport/legacy/types/types_pb.js';
export type { LockV2 };
export type {
  EventExportChunk,
  EventsUnstructured,
  EventUnstructured,
  ExportEventUnstructured,
  ExportUnstructuredEventsRequest,
  GetEventExportChunksRequest,
  GetUnstructuredEventsRequest,
  StreamUnstructuredSessionEventsRequest,
};

function method<I extends DescMessage, O extends DescMessage>(
  path: string,
  input: I,
  output: O,
  responseStream: boolean,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b) => fromBinary(output, b),
  };
}

const m = AuditLogService.method;
const path = (name: string) => `/${AuditLogService.typeName}/${name}`;

export const auditLogServiceDefinition = {
  StreamUnstructuredSessionEvents: method(
    path(m.streamUnstructuredSessionEvents.name),
    m.streamUnstructuredSessionEvents.input,
    m.streamUnstructuredSessionEvents.output,
    true,
  ),
  GetUnstructuredEvents: method(path(m.getUnstructuredEvents.name), m.getUnstructuredEvents.input, m.getUnstructuredEvents.output, false),
  ExportUnstructuredEvents: method(
    path(m.exportUnstructuredEvents.name),
    m.exportUnstructuredEvents.input,
    m.exportUnstructuredEvents.output,
    true,
  ),
  GetEventExportChunks: method(path(m.getEventExportChunks.name), m.getEventExportChunks.input, m.getEventExportChunks.output, true),
} satisfies ServiceDefinition;

const a = AuthService.method;

/** `/proto.AuthService/UpsertLock` (api/client/proto/authservice.proto); the reply is Empty. */
export const authServiceDefinition = {
  UpsertLock: method(`/${AuthService.typeName}/${a.upsertLock.name}`, a.upsertLock.input, a.upsertLock.output, false),
} satisfies ServiceDefinition;
