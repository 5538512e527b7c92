#!/usr/bin/env node
// The Airbyte name of the same connector: `source-scarf spec|check|discover|read`.
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
