/** Durations as kubectl prints them: the rule lives in protocol/display.ts (the dashboard shows the same ages). */
export { age, humanDuration } from '../../protocol/display.js';
