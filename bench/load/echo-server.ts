/**
 * The ceiling: a bare grpc-js unary server that answers every call with its request bytes. No
 * decoding, no work: what grpc-js itself allows on this machine. Prints its port on stdout; a
 * line "count" on stdin prints how many calls it answered.
 */
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { createInterface } from 'node:readline';
import { ECHO_PATH } from './frames.js';


const identity = (b: Buffer) => b;
const definition: ServiceDefinition = {
  echo: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

let answered = 0;
const server = new Server();
server.addService(definition, {
  echo: (call: { request: Buffer }, callback: (err: null, res: Buffer) => void) => {
    answered++;
    callback(null, call.request);
  },
});
server.bindAsync(`127.0.0.1:${process.argv[2] ?? '0'}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') process.stdout.write(`${answered}\n`);
});
process.stdin.on('end', () => server.forceShutdown());
