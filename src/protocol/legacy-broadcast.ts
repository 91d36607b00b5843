import { z } from 'zod';
import { catalogEntry } from './catalog.js';
import type { Delivery } from './delivery.js';
import { errorBody, type ErrorBody } from './error-codes.js';
import type { PublishRequest } from './publish-request.js';
import { isRole } from './roles.js';
import { err, ok, type Result } from '../shared/result.js';

/** The seed's Redis channel; other backends PUBLISH JSON events here without the HTTP API. */
export const LEGACY_BROADCAST_CHANNEL = 'ws:admin:broadcast';

const legacySchema = z.object({
  type: z.string().min(1).max(100),
  data: z.record(z.string(), z.unknown()).default({}),
  timestamp: z.string().optional(),
  _target_role: z.string().optional(),
  _target_user: z.string().min(1).max(256).optional(),
});

/**
 * `{"type","data","timestamp"?,"_target_role"?,"_target_user"?}` → a publish request: `_target_user` → that user,
 * `_target_role` → that role (both: their union), neither → the type's default audience, or everyone for
 * `notification`. The catalog allow-list applies as on every path.
 */
export function parseLegacyBroadcast(raw: string): Result<PublishRequest, ErrorBody> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return err(errorBody('bad_json'));
  }
  const parsed = legacySchema.safeParse(json);
  if (!parsed.success) return err(errorBody('invalid_body', parsed.error.issues[0]?.message));
  const { type, data, _target_role: role, _target_user: user } = parsed.data;
  const entry = catalogEntry(type);
  if (!entry) return err(errorBody('unknown_event_type', `event type "${type}" is not in the catalog`));
  if (role !== undefined && !isRole(role)) return err(errorBody('invalid_target', `unknown role "${role}"`));
  const delivery: Delivery = {
    ...(user ? { users: [user] } : {}),
    ...(role ? { roles: [role] } : {}),
    ...(!user && !role && entry.defaultRoles.length === 0 ? { all: true } : {}),
  };
  return ok({ entry, data, delivery });
}
