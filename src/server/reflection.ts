/**
 * Server reflection (v1 and v1alpha) from the descriptors buf compiled from proto/, so generic
 * clients (grpcurl, grpcui, Postman, Python's descriptor pool) see the true file names, imports,
 * snake_case field names and json_name. proto-loader's own descriptors regroup files by package
 * and camelCase the fields, which those clients reject or misread.
 */
import { readFileSync } from 'node:fs';
import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { DESCRIPTOR_SET } from '../paths.js';

/**
 * Adds reflection to the server. @grpc/reflection indexes whatever `fileDescriptorProtos` a package
 * definition carries and answers with those bytes unchanged, so it is handed buf's files directly.
 * @param file a serialized FileDescriptorSet (written by `npm run gen`)
 */
export function addReflection(server: Server, file: string = DESCRIPTOR_SET): void {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(file));
  const fileDescriptorProtos = set.file.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f)));
  // Only `fileDescriptorProtos` is read; the rest of a package definition's shape is never used.
  const definition = { descriptors: { fileDescriptorProtos } } as unknown as PackageDefinition;
  new ReflectionService(definition).addToServer(server);
}
