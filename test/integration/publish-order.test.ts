import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import { createDatabase } from '../../src/adapters/db/database.js';
import { KyselyEventLog } from '../../src/adapters/db/stores/kysely-event-log.js';
import { Stats } from '../../src/core/stats.js';
import { EVENTS_TOPIC, type EventMessage } from '../../src/features/notifications/events-topic.js';
import { PublishService } from '../../src/features/notifications/publish-service.js';
import { SortableIdGenerator } from '../../src/shared/ids.js';
import { onCleanup } from '../helpers/cleanup.js';

// Clients resume from the last id they saw: an event that is not kept (health figures) must not reach them before
// a kept event with an earlier id that is still being written, or a client that drops in between never gets it.
test('events reach the bus in id order, kept or not', async () => {
  const database = createDatabase('sqlite::memory:');
  await database.migrate();
  onCleanup(() => database.close());
  const bus = new MemoryBus();
  const publisher = new PublishService({ bus, eventLog: new KyselyEventLog(database.db), ids: new SortableIdGenerator(bus.instanceId), stats: new Stats() });
  const seen: string[] = [];
  await bus.subscribe(EVENTS_TOPIC, (message: EventMessage) => seen.push(message.id));

  const published = await Promise.all([
    publisher.publishEvent('system.alert', { n: 1 }),
    publisher.publishEvent('system.health.update', { n: 2 }, {}, { keep: false }),
    publisher.publishEvent('system.alert', { n: 3 }),
    publisher.publishEvent('system.health.update', { n: 4 }, {}, { keep: false }),
  ]);
  assert.deepEqual(seen, published);
  assert.deepEqual([...published].sort(), published);
});
