import pino, { Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Secrets never reach them: tokens, signatures and secrets are redacted by path. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'livegive', pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["livegive-signature"]',
        'req.headers.cookie',
        '*.token',
        '*.adminToken',
        '*.paymentSecret',
        'config.auth',
        'config.payments',
        '*.apiV3Key',
        '*.secretsKey',
        'req.headers["wechatpay-signature"]',
      ],
      censor: '[redacted]',
    },
  });
}
