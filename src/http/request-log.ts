// A request's logger (req.log), made only when something is logged through it. Fastify makes a
// child logger for every request (with its request id) and the auth hook another (with the tenant);
// pino builds each child eagerly (its bindings serialized, its methods set up), yet with request
// logging off most requests log nothing. Two children per request were ~5% of the API process's
// CPU on a one-statement stock write (perf, bench medusa). This logger keeps the bindings and
// makes the real child, once, on the first line at an enabled level; what it logs is the same.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LogFn } from 'pino';

type Parent = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

class RequestLog implements FastifyBaseLogger {
  private made: FastifyBaseLogger | null = null;
  private readonly parent: Parent;
  private readonly bindings: Bindings;
  constructor(parent: Parent, bindings: Bindings) {
    this.parent = parent;
    this.bindings = bindings;
  }

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  private at(level: Level): LogFn {
    return ((...args: Parameters<LogFn>) => {
      // Nothing to write at this level: no child needed (a parent without the check makes one).
      if (this.made === null && this.parent.isLevelEnabled?.(level) === false) return;
      (this.real()[level] as (...a: unknown[]) => void)(...args);
    }) as LogFn;
  }

  readonly fatal = this.at('fatal');
  readonly error = this.at('error');
  readonly warn = this.at('warn');
  readonly info = this.at('info');
  readonly debug = this.at('debug');
  readonly trace = this.at('trace');
  readonly silent: LogFn = () => {};

  get level(): string {
    return (this.made ?? this.parent).level;
  }
  set level(level: string) {
    this.real().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    // A child with options of its own (a level, serializers) is pino's to make; one that only adds
    // bindings stays lazy, its bindings merged (as pino would write them: later keys win).
    if (this.made !== null || (options && Object.keys(options).length > 0)) return this.real().child(bindings, options);
    return new RequestLog(this.parent, { ...this.bindings, ...bindings });
  }
}

/** Fastify's `childLoggerFactory`: the per-request child, lazy unless the route sets its own log options. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  if (Object.keys(opts).length > 0) return logger.child(bindings, opts);
  return new RequestLog(logger as Parent, bindings);
}
