import { z } from 'zod';
import { catalogEntry, type CatalogEntry } from './catalog.js';
import { errorBody, type ErrorBody } from './error-codes.js';
import { ROLES } from './roles.js';
import { hasTarget, type Delivery } from './delivery.js';
import { err, ok, type Result } from '../shared/result.js';

const MAX_TARGET_USERS = 10_000;

const targetSchema = z
  .object({
    users: z.array(z.string().min(1).max(256)).max(MAX_TARGET_USERS).optional(),
    roles: z.array(z.enum(ROLES)).max(ROLES.length * 2).optional(),
    all: z.boolean().optional(),
  })
  .strict();

const publishSchema = z.object({
  type: z.string().min(1).max(100),
  data: z.record(z.string(), z.unknown()).default({}),
  target: z.unknown().optional(),
});

/** A publish request after validation: the catalog entry of its type and a target (or none: default audience). */
export interface PublishRequest {
  readonly entry: CatalogEntry;
  readonly data: Record<string, unknown>;
  readonly delivery: Delivery;
}

/** Validate `{"type","data","target"?}` from the HTTP API (SPEC §4). */
export function parsePublishRequest(body: unknown): Result<PublishRequest, ErrorBody> {
  const parsed = publishSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(errorBody('invalid_body', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`));
  }
  const { type, data, target } = parsed.data;
  const entry = catalogEntry(type);
  if (!entry) return err(errorBody('unknown_event_type', `event type "${type}" is not in the catalog`));
  let delivery: Delivery = {};
  if (target !== undefined) {
    const t = targetSchema.safeParse(target);
    if (!t.success) {
      const issue = t.error.issues[0];
      return err(errorBody('invalid_target', `target${issue?.path.length ? '.' + issue.path.join('.') : ''}: ${issue?.message ?? 'invalid'}`));
    }
    delivery = t.data;
  }
  const targeted = hasTarget(delivery);
  if (!targeted && target !== undefined) return err(errorBody('invalid_target', 'target names no users, roles or all'));
  if (!targeted && entry.defaultRoles.length === 0) {
    return err(errorBody('target_required', `event type "${type}" has no default audience: give a target`));
  }
  return ok({ entry, data, delivery });
}
