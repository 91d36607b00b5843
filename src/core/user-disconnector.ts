import { close } from '../protocol/close-codes.js';
import { topic, type Bus, type Unsubscribe } from './bus.js';
import type { ConnectionRegistry } from './connection-registry.js';

interface DisconnectMessage {
  readonly userId: string;
}

const DISCONNECT_TOPIC = topic<DisconnectMessage>('control:disconnect-user');

/** Closes every connection of a user, on every instance, with 4410 (the service API's logout / ban). */
export class UserDisconnector {
  private unsubscribe: Unsubscribe | undefined;

  constructor(private readonly bus: Bus, private readonly registry: ConnectionRegistry) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(DISCONNECT_TOPIC, (message) => this.closeLocal(message.userId));
  }

  stop(): void {
    this.unsubscribe?.();
  }

  disconnect(userId: string): Promise<void> {
    return this.bus.publish(DISCONNECT_TOPIC, { userId });
  }

  private closeLocal(userId: string): void {
    for (const peer of [...this.registry.connectionsOf(userId)]) peer.close(close('disconnected', 'disconnected by the service'));
  }
}
