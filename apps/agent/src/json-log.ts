export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type JsonLogger = (level: LogLevel, msg: string, details?: Record<string, unknown>) => void;

/** One JSON object per line: {"time","level","msg",...details}. */
export function jsonLogger(stream: NodeJS.WritableStream, minLevel: LogLevel = 'info'): JsonLogger {
  return (level, msg, details) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...details })}\n`);
  };
}
