#!/usr/bin/env node
// Runs on Node >= 22.18 with type stripping: the TypeScript sources are the program, no build step.
import '../src/cli/main.ts';
