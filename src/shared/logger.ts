import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const TOKEN_IN_PATH = /^(\/ws\/(?:admin|staff|instructor|parent|student|partner)\/)[^/?#]+/;
const TOKEN_AFTER_ID = /^(\/ws\/(?:yjs|support-chat|video)\/[^/?#]+\/)[^/?#]+/;
const TOKEN_IN_QUERY = /([?&](?:token|access_token)=)[^&#]*/gi;

/** A URL with every place a token can travel replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url
    .replace(TOKEN_IN_PATH, '$1[redacted]')
    .replace(TOKEN_AFTER_ID, '$1[redacted]')
    .replace(TOKEN_IN_QUERY, '$1[redacted]');
}

export interface LoggerOptions {
  readonly level: string;
  readonly destination?: DestinationStream;
}

/** JSON logs; credentials are censored by key wherever they appear in a logged object. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'uhs-realtime' },
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'apiKey',
          '*.apiKey',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
      serializers: {
        url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
      },
    },
    options.destination,
  );
}
