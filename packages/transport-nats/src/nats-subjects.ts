/**
 * True when some subject matches both NATS subject patterns: tokens are
 * separated by `.`, `*` matches exactly one token and `>` (last) one or
 * more. `orders.*` and `orders.>` overlap; `orders.*` and `orders.a.b`
 * do not; `orders.>` and `orders` do not (`>` needs a token).
 *
 * @example
 * subjectsOverlap('ORDERS.>', 'ORDERS.dead') // true
 * subjectsOverlap('ORDERS.>', 'ORDERS_DEAD.x') // false
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const left = a.split('.');
  const right = b.split('.');
  for (let i = 0; i < left.length && i < right.length; i++) {
    if (left[i] === '>' || right[i] === '>') return true;
    if (left[i] !== '*' && right[i] !== '*' && left[i] !== right[i]) return false;
  }
  return left.length === right.length;
}
