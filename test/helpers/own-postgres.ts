import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { freePort } from './child-server.js';

export interface OwnPostgres {
  readonly url: string;
  stop(): void;
  start(): void;
}

function binDir(): string {
  const version = readdirSync('/usr/lib/postgresql').sort().at(-1);
  if (!version) throw new Error('no PostgreSQL installation under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${version}/bin`;
}

/**
 * A PostgreSQL server of this test's own (its own data directory and port), so a test may stop and restart it
 * without disturbing the machine's shared server. Runs as the `postgres` user, which initdb requires.
 */
export function startOwnPostgres(port: number): OwnPostgres {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'uhs-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { stdio: 'ignore' });
  const data = join(dir, 'data');
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'root', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => asPostgres('pg_ctl', ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
  const stop = () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  start();
  onCleanup(() => {
    try {
      stop();
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `postgres://root@127.0.0.1:${port}/postgres`, stop, start };
}

export { freePort };
