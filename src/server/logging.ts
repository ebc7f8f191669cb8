import pino, { type Logger } from 'pino';

/** The root logger: JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'learnloop' } }, pino.destination(2));
}
