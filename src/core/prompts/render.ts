/**
 * The one place that imports nunjucks. Templates are inlined as text (esbuild's
 * text loader in the bundle, the test loader under mocha) and rendered strictly:
 * an undefined variable is an error, never an empty string in a prompt.
 */
import nunjucks from 'nunjucks';

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: true, lstripBlocks: true });
const compiled = new Map<string, nunjucks.Template>();

export function renderTemplate(source: string, vars: Record<string, unknown>): string {
  let template = compiled.get(source);
  if (!template) {
    template = nunjucks.compile(source, env);
    compiled.set(source, template);
  }
  return template.render(vars).trim();
}
