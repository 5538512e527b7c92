#!/usr/bin/env -S node --max-semi-space-size=4
// The Airbyte name of the same connector: `source-scarf spec|check|discover|read`.
// Node flags: see bin/tap-scarf.js.
import { load } from './launch.js';

const { main } = await load('dist/src/cli.js');
process.exitCode = await main(process.argv.slice(2), 'source-scarf');
