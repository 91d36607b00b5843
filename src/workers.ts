import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './shared/logger.js';

export interface WorkerPoolOptions {
  readonly count: number;
  readonly logger: Logger;
  /** The primary waits this long for workers to drain on shutdown before killing them. */
  readonly shutdownDeadlineMs: number;
}

const RESTART_BACKOFF_MS = [100, 500, 1000, 2000, 5000];

/**
 * The primary of `serve --workers N`: forks N workers that each run a whole server instance on the shared port
 * (node:cluster distributes connections), restarts a worker that dies, and on SIGTERM/SIGINT asks every worker to
 * shut down gracefully, then exits 0.
 */
export function runWorkerPool(options: WorkerPoolOptions): void {
  const { logger } = options;
  let stopping = false;
  let crashes = 0;
  const fork = (): Worker => cluster.fork({ UHS_WORKER: '1' });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const delay = RESTART_BACKOFF_MS[Math.min(crashes++, RESTART_BACKOFF_MS.length - 1)];
    logger.error({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });
  cluster.on('listening', () => {
    crashes = 0;
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const deadline = setTimeout(() => {
      logger.error('workers did not stop in time; killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownDeadlineMs);
    deadline.unref();
    let failed = false;
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const worker of workers) {
      worker.once('exit', (code) => {
        if (code !== 0) failed = true;
        if (--left === 0) process.exit(failed ? 1 : 0);
      });
      worker.process.kill(signal);
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < options.count; i++) fork();
  logger.info({ workers: options.count }, 'started workers');
}

export function isWorker(): boolean {
  return cluster.isWorker;
}
