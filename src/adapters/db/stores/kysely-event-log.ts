import type { Kysely } from 'kysely';
import type { EventLog, StoredEvent } from '../../../features/notifications/event-log.js';
import type { Delivery } from '../../../protocol/delivery.js';
import type { DatabaseSchema } from '../schema.js';

/** The event log over SQLite or PostgreSQL (one query code for both). */
export class KyselyEventLog implements EventLog {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async append(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({
      id: e.id,
      type: e.type,
      frame: e.frame,
      delivery: JSON.stringify(e.delivery),
      created_at: e.createdAt,
    }));
    await this.db.transaction().execute(async (trx) => {
      // chunks keep each statement under SQLite's bound-parameter limit
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('events').values(rows.slice(i, i + 500)).execute();
    });
  }

  async after(afterId: string, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      frame: row.frame,
      delivery: JSON.parse(row.delivery) as Delivery,
      createdAt: Number(row.created_at),
    }));
  }

  async oldestId(): Promise<string | undefined> {
    const row = await this.db.selectFrom('events').select('id').orderBy('id').limit(1).executeTakeFirst();
    return row?.id;
  }

  async pruneBefore(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('events').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
