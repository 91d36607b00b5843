/**
 * Preloaded (`--import`) into the servers a benchmark starts, so that none outlives it: when the
 * benchmark process dies without cleaning up (SIGKILL, crash), the child is re-parented and exits.
 * Costs one `getppid` per second in the measured process.
 */
const parentPid = process.ppid;

setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 1_000).unref();
