import { z } from 'zod';

/** Messages a client may send on a role channel (SPEC §3), by type. */
export const roleChannelSchemas = {
  ping: z.unknown(),
  resume: z.object({ since: z.string().min(1).max(64) }),
} as const;
