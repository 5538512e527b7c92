#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size=4: V8's young generation defaults to 16 MB semi-spaces. The fast CSV
// path makes little garbage per row, so 4 MB semi-spaces keep a million-event sync's peak
// RSS ~15 MB lower than 8 MB did at the same speed (bench: 130 vs 144 MB, 2.9–3.0 s both). The Dockerfile's ENTRYPOINT, the bench and the tests start node
// with the flags of this line (src/node-flags.ts reads them), so all run the tap alike.
import { load } from './launch.js';

const { main } = await load('dist/src/cli.js');
process.exitCode = await main(process.argv.slice(2));
