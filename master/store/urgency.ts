/**
 * Requests that wait for the watch hub. A consistent list (api/handlers/objects.ts) or a watch from a revision
 * (api/handlers/streams.ts) waits until the informers have applied every change up to the store's revision; in a
 * 10,000-pod rollout the hub is a few hundred changes behind, delivered in the short turns the loop budget leaves it
 * (1–4 ms per iteration), and such a wait took a median 33 ms and up to 193 ms of a list's 150 ms goal (docs/scale.md,
 * session 24). While at least one request waits, the hub delivers in turns of `behindSliceMs` (watch-hub.ts) instead:
 * the wait is ~3× shorter, for iterations up to ~6 ms longer while it lasts. One counter for the process: every hub
 * hurries, as any of them may be the one the request waits on.
 */
let waiting = 0;

/** Marks a request as waiting for delivery; call the returned function (once; later calls do nothing) when it stops waiting. */
export function hurryDelivery(): () => void {
  waiting++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    waiting--;
  };
}

/** True while a request waits for delivery. */
export function deliveryHurried(): boolean {
  return waiting > 0;
}
