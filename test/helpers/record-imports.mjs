// Loaded with `node --import ./test/helpers/record-imports.mjs`: appends the
// URL of every module the process imports (ESM resolution, which covers each
// package our code imports, lazily or not) to the file named by
// RECORD_IMPORTS, so a test can tell which packages a process loaded.
import { register } from "node:module";

register("./record-imports.hooks.mjs", import.meta.url, { data: { file: process.env.RECORD_IMPORTS } });
