/**
 * Publishes the soak's events with POST /api/v1/events at a fixed rate (open loop), to the default audience of
 * `admin.metrics.update` (every admin), and keeps the id the server gave each accepted event: trackers count
 * deliveries by that id.
 */
import type { UhsServer } from '../shared/uhs-server.js';
import type { SoakEventData } from './protocol.js';

const EVENT_TYPE = 'admin.metrics.update';

export class EventPublisher {
  /** Sequence number → the event id of every accepted (202) event. */
  readonly accepted = new Map<number, string>();
  failed = 0;
  firstError: string | null = null;
  private nextSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly server: UhsServer) {}

  get published(): number {
    return this.nextSeq;
  }

  start(perSecond: number): void {
    this.timer = setInterval(() => this.publish(false), 1000 / perSecond);
  }

  /** Stops the schedule and waits for the answers still due. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** The last event: published once churn has stopped; trackers stop counting presence at it. */
  async publishFinal(): Promise<void> {
    this.publish(true);
    await Promise.all(this.inFlight);
  }

  private publish(final: boolean): void {
    const seq = this.nextSeq++;
    const data: SoakEventData & Record<string, unknown> = {
      soak_seq: seq,
      ...(final ? { soak_final: true as const } : {}),
      active_users: 1843 + (seq % 97),
      active_sessions: 2310,
      requests_per_minute: 9200,
      error_rate: 0.0021,
      window: '1m',
    };
    const request = this.server
      .api('POST', '/api/v1/events', { type: EVENT_TYPE, data })
      .then(({ status, body }) => {
        const id = typeof body === 'object' && body !== null && 'id' in body ? body.id : undefined;
        if (status === 202 && typeof id === 'string') this.accepted.set(seq, id);
        else this.fail(`HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`);
      })
      .catch((error: unknown) => this.fail(error instanceof Error ? error.message : String(error)))
      .finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  private fail(message: string): void {
    this.failed++;
    this.firstError ??= message;
  }
}
