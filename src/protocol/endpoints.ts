/** The four WebSocket services. */
export const ENDPOINTS = ['role', 'yjs', 'chat', 'video'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
