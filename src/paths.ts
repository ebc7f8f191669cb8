import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder with proto/), found from this file whether run from src/ or dist/src/. */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'proto', 'learnloop', 'v1', 'learnloop.proto'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('learnloop: cannot find proto/learnloop/v1/learnloop.proto above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export const PROTO_DIR = join(PACKAGE_ROOT, 'proto');
/** Every file compiled from proto/ with its imports, as a FileDescriptorSet (`npm run gen` writes it). */
export const DESCRIPTOR_SET = join(PACKAGE_ROOT, 'src', 'gen', 'descriptors.binpb');

/** The version in the package's package.json (what `learnloop --version` prints). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
