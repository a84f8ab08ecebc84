#!/usr/bin/env node
// The skiff-agent launcher: the compiled agent lives in dist/ (npm run build).
import { main } from '../dist/edge-agent/main.js';

main(process.argv.slice(2)).then((code) => process.exit(code));
