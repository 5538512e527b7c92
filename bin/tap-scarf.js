#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: V8's young generation defaults to 16 MB semi-spaces; 8 MB keeps
// a million-event sync's peak RSS ~15 MB lower at the same speed (bench: 131 vs 144 MB,
// 103k vs 99k records/s). The Dockerfile's ENTRYPOINT, the bench and the tests start node
// with the flags of this line (src/node-flags.ts reads them), so all run the tap alike.
import { load } from './launch.js';

const { main } = await load('dist/src/cli.js');
process.exitCode = await main(process.argv.slice(2));
