import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { PROTO_DIR } from '../../src/paths.js';
import { startTestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

// Debian's python3 with python3-grpcio and python3-grpc-tools (CI installs them).
const PYTHON = '/usr/bin/python3';
const hasPythonGrpc = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools'], { stdio: 'ignore' }).status === 0;
// The reflection protocol only (v1 and v1alpha), as @grpc/reflection ships it; none of learnloop's proto.
const REFLECTION_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto');

// Outside CI a developer machine may lack Debian's python3-grpcio; in CI it is installed and required.
describe.skipIf(!hasPythonGrpc && !process.env.CI)('server reflection, read by a generic client', () => {
  test('describes the real files and lets a descriptor pool call Recommend and Observe with proto field names', async () => {
    const { addr } = await startTestServer();
    // Asynchronous: the server runs in this process and must keep answering while Python asks.
    const { stdout } = await promisify(execFile)(PYTHON, [join(__dirname, 'reflection_client.py'), addr, REFLECTION_PROTO_DIR, tmpDir()], {
      timeout: 120_000,
    });
    const r = JSON.parse(stdout) as Record<string, unknown>;
    const services = ['grpc.health.v1.Health', 'learnloop.v1.LearnLoopService'];
    expect(r.services_v1).toEqual(services);
    expect(r.services_v1alpha).toEqual(services);
    expect(r.file_of_service).toBe('learnloop/v1/learnloop.proto');
    expect(r.by_filename).toContain('learnloop/v1/learnloop.proto');
    expect(r.google_rpc).toEqual(['google/rpc/error_details.proto']);
    expect(r.made_up_name).toBe(5); // NOT_FOUND: only true file names exist
    expect(r.dependencies).toEqual({
      'google/protobuf/timestamp.proto': [],
      'learnloop/v1/learnloop.proto': ['google/protobuf/timestamp.proto'],
    });
    expect(r.methods).toEqual(['Recommend', 'Observe', 'RegisterTemplate', 'ListTemplates', 'GetScores', 'ListRefinements', 'DecideRefinement']);
    const fields = r.observe_fields as Record<string, string>;
    expect(fields.run_id).toBe('runId');
    expect(fields.finished_at).toBe('finishedAt');
    expect(fields.duration_seconds).toBe('durationSeconds');
    expect(r.recommend_ranked).toEqual(['docs@v1', 'docs@v2']);
    expect(['docs@v1', 'docs@v2']).toContain((r.recommend as { chosen_template_id: string }).chosen_template_id);
    expect(r.observe).toEqual({ duplicate: false, observations: 1 });
    // The snake_case task_class and repo reached the server: the run is scored in that segment.
    expect(r.scores).toEqual(expect.objectContaining({ [(r.recommend as { chosen_template_id: string }).chosen_template_id]: '1' }));
  });
});

test('the vendored grpc/health/v1/health.proto is the one grpc-health-check implements', () => {
  // proto/grpc/health exists only so reflection describes the health service under its true name.
  const theirs = readFileSync(createRequire(import.meta.url).resolve('grpc-health-check/proto/health/v1/health.proto'), 'utf8');
  expect(readFileSync(join(PROTO_DIR, 'grpc', 'health', 'v1', 'health.proto'), 'utf8')).toBe(theirs);
});
