// The grpc-js service definitions of teleport.auditlog.v1.AuditLogService and of the one
// proto.AuthService RPC the lock feature calls (UpsertLock), built from the descriptors
// protoc-gen-es generated (src/gen), so the exporter's client and the test server share one
// definition and serialize with protobuf-es (docs/compatibility-event-handler.md §4.1, §4.5).
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import { AuditLogService } from '../../gen/teleport/auditlog/v1/auditlog_pb.js';
import { AuthService } from '../../gen/teleport/legacy/client/proto/authservice_pb.js';

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
} from '../../gen/teleport/auditlog/v1/auditlog_pb.js';
export type {
  EventExportChunk,
  EventsUnstructured,
  EventUnstructured,
  ExportEventUnstructured,
  ExportUnstructuredEventsRequest,
  GetEventExportChunksRequest,
  GetUnstructuredEventsRequest,
  StreamUnstructuredSessionEventsRequest,
} from '../../gen/teleport/auditlog/v1/auditlog_pb.js';
export { LockSpecV2Schema, LockTargetSchema, LockV2Schema, MetadataSchema } from '../../gen/teleport/legacy/types/types_pb.js';
export type { LockV2 } from '../../gen/teleport/legacy/types/types_pb.js';

/** One unary or server-streaming method: path `/<package.Service>/<Method>`, protobuf-es codecs. */
function grpcMethod<I extends DescMessage, O extends DescMessage>(
  service: DescService,
  desc: DescMethod & { input: I; output: O },
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${service.typeName}/${desc.name}`,
    requestStream: false,
    responseStream: desc.methodKind === 'server_streaming',
    requestSerialize: (m) => Buffer.from(toBinary(desc.input, m)),
    requestDeserialize: (b) => fromBinary(desc.input, b),
    responseSerialize: (m) => Buffer.from(toBinary(desc.output, m)),
    responseDeserialize: (b) => fromBinary(desc.output, b),
  };
}

const audit = AuditLogService.method;

export const auditLogServiceDefinition = {
  StreamUnstructuredSessionEvents: grpcMethod(AuditLogService, audit.streamUnstructuredSessionEvents),
  GetUnstructuredEvents: grpcMethod(AuditLogService, audit.getUnstructuredEvents),
  ExportUnstructuredEvents: grpcMethod(AuditLogService, audit.exportUnstructuredEvents),
  GetEventExportChunks: grpcMethod(AuditLogService, audit.getEventExportChunks),
} satisfies ServiceDefinition;

/** `/proto.AuthService/UpsertLock` (api/client/proto/authservice.proto); the reply is Empty. */
export const authServiceDefinition = {
  UpsertLock: grpcMethod(AuthService, AuthService.method.upsertLock),
} satisfies ServiceDefinition;
