/** htm bound to preact's `h`: JSX-like templates without a compile step beyond esbuild's bundling. */
import { h } from 'preact';
import htm from 'htm';

/** Tagged template that makes preact elements. */
export const html = htm.bind(h);
