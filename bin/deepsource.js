#!/usr/bin/env node
'use strict';
// Entry point for `npx deepsource`. The TypeScript is compiled to dist/ by `npm install` (prepare).
require('../dist/cli/main.js').main(process.argv).then((code) => { process.exitCode = code; });
