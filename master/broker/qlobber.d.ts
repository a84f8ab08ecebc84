/** The part of qlobber (no bundled types) that broker/emitter.ts uses: MQTT-style topic matching. */
declare module 'qlobber' {
  /** Options as mqemitter passes them. */
  export interface QlobberOptions {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
  }
  /** A topic trie: values added under topic filters, matched by topic. */
  export class Qlobber {
    constructor(options?: QlobberOptions);
    add(topic: string, value: unknown): this;
    remove(topic: string, value?: unknown): this;
    match(topic: string): unknown[];
  }
}
