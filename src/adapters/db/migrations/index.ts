import type { Migration } from 'kysely';
import * as events from './0001-events.js';
import * as collab from './0002-collab.js';
import * as video from './0004-video.js';

/** Every migration, by name; they run in name order. Append new ones; never edit one that has shipped. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-events': events,
  '0002-collab': collab,
  '0004-video': video,
};
