/** What one pass (`resendUnsentMessages`, `deliver`) did. */
export interface DeliveryReport {
  /** Messages claimed and attempted. */
  attempted: number;
  sent: number;
  /** Failed and scheduled for a later attempt. */
  retried: number;
  dead: number;
  /** Taken over by another worker before this one could record its result. */
  fenced: number;
  /** Attempted, but the store failed while recording the outcome; retried once their lease expires. */
  unrecorded: number;
  /** Claimed but given back uncounted, not sent: their destination answered busy, is paused, or has its circuit breaker open. */
  deferred: number;
}

export const emptyReport = (): DeliveryReport => ({ attempted: 0, sent: 0, retried: 0, dead: 0, fenced: 0, unrecorded: 0, deferred: 0 });
