/** The pod columns kubectl derives (STATUS, READY, RESTARTS): the rule lives in protocol/display.ts, shared with the dashboard. */
export { podReady, podRestarts, podStatus } from '../../protocol/display.js';
