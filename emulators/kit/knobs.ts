// Fault knobs: how badly the emulated platform behaves. Set per emulator (POST /_control/knobs)
// by tests, the demo and the benchmarks; never saved with the platform's state.

export interface Knobs {
  /** Added to every platform API response. */
  latencyMs: number;
  /** Share of API calls answered 5xx (nothing applied). */
  errorRate: number;
  /** Share of API calls answered with the platform's throttle response (nothing applied). */
  throttleRate: number;
  /** Share of API calls that never answer in time: half hang before applying, half apply then hang. */
  timeoutRate: number;
  /** How long a "timeout" hangs before the socket is dropped. */
  timeoutHangMs: number;
  /** Every webhook leaves this long after its cause (platforms dispatch them from a queue, not inline). */
  webhookDelayMs: number;
  /** Share of webhooks delivered twice. */
  duplicateRate: number;
  /** Share of webhooks held back (0..reorderDelayMs) so later ones overtake them. */
  reorderRate: number;
  reorderDelayMs: number;
  /** Attempts per webhook before the emulator gives up (platforms retry on non-2xx). */
  webhookMaxAttempts: number;
  /** Enforce the platform's documented rate limit (off only for scale benchmarks that model a plan with more quota). */
  enforceRateLimit: boolean;
  /** Keep every platform API request received (method, URL, body) for GET /_control/requests (tests comparing what was sent). */
  recordRequests: boolean;
}

export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 0,
  errorRate: 0,
  throttleRate: 0,
  timeoutRate: 0,
  timeoutHangMs: 3000,
  webhookDelayMs: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 300,
  webhookMaxAttempts: 8,
  enforceRateLimit: true,
  recordRequests: false,
};

export type Fault = 'none' | 'error' | 'throttle' | 'hang' | 'lose_response';

/** Draws the fault (if any) one API call suffers. */
export function pickFault(k: Knobs): Fault {
  // One draw against stacked bands: [0, error) [error, +throttle) [.., +timeout), the rest none.
  const r = Math.random();
  if (r < k.errorRate) return 'error';
  if (r < k.errorRate + k.throttleRate) return 'throttle';
  if (r < k.errorRate + k.throttleRate + k.timeoutRate) return Math.random() < 0.5 ? 'hang' : 'lose_response';
  return 'none';
}
