/**
 * The compiled engine's bytes when they are built into the program (the one-file agent bundle: scripts/build-agent.mjs
 * replaces this module with the bytes of build/engine.wasm); undefined otherwise, and kernel.ts reads the file.
 */
export const embeddedWasm: Uint8Array | undefined = undefined;
