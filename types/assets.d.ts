// Nunjucks templates are inlined as text: esbuild's text loader in the bundle,
// test/support/text-loader.mjs under mocha and the bench.
declare module '*.njk' {
  const text: string;
  export default text;
}
