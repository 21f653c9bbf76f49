// Node module hook: `import t from './x.njk'` yields the file's text, as
// esbuild's text loader does in the bundle. Registered by register-loaders.mjs.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.endsWith('.njk')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
