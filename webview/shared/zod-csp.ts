/**
 * Must be the first import of every webview entry point.
 *
 * zod 4 compiles object parsers with `new Function` unless told not to, and
 * probes for it once; under the webview's CSP (no 'unsafe-eval') that probe
 * is refused and reported as a `securitypolicyviolation`, even though zod
 * catches it. Jitless mode skips the probe and the compilation. It must be
 * set before any schema is constructed, hence a module of its own that the
 * entry imports before anything that defines schemas.
 */
import { z } from 'zod';

z.config({ jitless: true });
