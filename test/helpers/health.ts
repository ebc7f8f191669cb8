import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const healthProto = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto', 'health', 'v1', 'health.proto');

/** grpc.health.v1 Check on `addr` for `service` ('' = the server as a whole), as a load balancer asks it. */
export async function health(addr: string, service = ''): Promise<string> {
  const pkg = loadPackageDefinition(protoLoader.loadSync(healthProto, { keepCase: true, enums: String }));
  const Ctor = ['grpc', 'health', 'v1', 'Health'].reduce<GrpcObject | ServiceClientConstructor>((o, k) => (o as GrpcObject)[k] as GrpcObject, pkg) as ServiceClientConstructor;
  const client = new Ctor(addr, credentials.createInsecure()) as unknown as {
    check(req: object, opts: object, cb: (err: ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  try {
    return await new Promise((resolve, reject) =>
      client.check({ service }, { deadline: Date.now() + 2000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

/** Polls `probe` until it returns true, or fails after `ms`. */
export async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
