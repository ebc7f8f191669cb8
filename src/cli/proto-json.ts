/**
 * Proto3 JSON for the command line, read strictly against the descriptors compiled from proto/
 * (@bufbuild/protobuf's canonical parser): unknown fields and unknown enum names are errors that
 * quote what was given, instead of being dropped or turned into enum value -1.
 */
import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary, fromJson, toBinary, type DescMessage, type FileRegistry, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { DESCRIPTOR_SET } from '../paths.js';
import { parseIsoTime } from '../time.js';

let registry: FileRegistry | undefined;

function messageType(typeName: string): DescMessage {
  registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET)));
  const desc = registry.getMessage(typeName);
  if (desc === undefined) throw new Error(`${typeName} is not in ${DESCRIPTOR_SET}`);
  return desc;
}

/**
 * One proto3 JSON object (proto or lowerCamelCase field names, enums by name or number) as the
 * message's binary encoding.
 * @throws Error naming the field and quoting the value given
 */
export function protoJsonToBinary(typeName: string, json: JsonValue, options: { ignoreUnknownFields: boolean }): Uint8Array {
  const desc = messageType(typeName);
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    for (const [key, value] of Object.entries(json)) {
      const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
      if (field === undefined) {
        if (options.ignoreUnknownFields) continue;
        throw new Error(`unknown field ${JSON.stringify(key)} (${desc.name} has ${desc.fields.map((f) => f.name).join(', ')}; --ignore-unknown-fields skips unknown fields)`);
      }
      // The parser below would roll a day that does not exist (02-30) over into the next month.
      if (field.fieldKind === 'message' && field.message.typeName === 'google.protobuf.Timestamp' && typeof value === 'string' && parseIsoTime(value, 'start') === undefined) {
        throw new Error(`${JSON.stringify(key)}:${JSON.stringify(value)} is not an RFC 3339 time, or names a day that does not exist`);
      }
      if (field.fieldKind === 'enum' && typeof value === 'string' && !field.enum.values.some((v) => v.name === value)) {
        throw new Error(unknownEnumName(field.name, field.enum.values, value));
      }
    }
  }
  return toBinary(desc, fromJson(desc, json, { ignoreUnknownFields: options.ignoreUnknownFields }));
}

/**
 * The error for an enum name the field does not have, in the words the server uses for a bad value
 * ("outcome: must be one of ...; got ..."), with the name it probably meant.
 */
function unknownEnumName(field: string, values: ReadonlyArray<{ name: string; number: number }>, given: string): string {
  // The zero value (*_UNSPECIFIED) means "not set": Observe refuses it, and leaving a field out says the same.
  const names = values.filter((v) => v.number !== 0).map((v) => v.name);
  const tail = `_${given.trim().toUpperCase().replace(/[-\s]+/g, '_')}`;
  const meant = names.filter((n) => n.endsWith(tail));
  return `${field}: must be one of ${names.join(', ')}; got ${JSON.stringify(given)}${meant.length === 1 ? ` (did you mean ${meant[0]!}?)` : ''}`;
}

/**
 * A message's JSON (from ts-proto's toJSON, which writes zeros but leaves empty repeated and map
 * fields out) with every such field present, `[]` or `{}`, in nested messages too: `--json`
 * output carries every field, so `jq .newTemplateIds` reads [] rather than null.
 */
export function completeJson(typeName: string, json: unknown): unknown {
  return complete(messageType(typeName), json);
}

function complete(desc: DescMessage, json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || desc.typeName.startsWith('google.protobuf.')) return json;
  const out: Record<string, unknown> = { ...json };
  for (const field of desc.fields) {
    const value = out[field.jsonName];
    if (field.fieldKind === 'list') {
      out[field.jsonName] = field.listKind === 'message' && Array.isArray(value) ? value.map((v) => complete(field.message, v)) : (value ?? []);
    } else if (field.fieldKind === 'map') {
      out[field.jsonName] = value ?? {};
    } else if (field.fieldKind === 'message' && value !== undefined) {
      out[field.jsonName] = complete(field.message, value);
    }
  }
  return out;
}
