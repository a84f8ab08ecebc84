#!/usr/bin/env node
// The skiff-agent launcher from a checkout: the compiled agent lives in dist/ (npm run build).
// On a board, the one-file bundle dist/skiff-agent.mjs (npm run build:agent) runs by itself.
import { launch } from '../dist/edge-agent/launch.js';

launch(process.argv.slice(2)).then((code) => process.exit(code));
