/**
 * A small glob matcher for the sandbox doubles (ripgrep-like `--glob`):
 * `*` and `?` stay within one path segment, `**` spans segments, `[...]`
 * (with `!` or `^` to negate) and `{a,b}` alternatives. A glob without `/`
 * matches the file's base name anywhere; one with `/` matches the path relative
 * to the searched directory.
 */
export function matchGlob(glob: string, relativePath: string): boolean {
  const subject = glob.includes('/') ? relativePath : (relativePath.split('/').at(-1) ?? '');
  return globToRegExp(glob.replace(/^\.\//, '')).test(subject);
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        source += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else if (c === '{') {
      braces++;
      source += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      source += ')';
    } else if (c === ',' && braces > 0) {
      source += '|';
    } else {
      source += c.replace(/[.+^$()|\\{}\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}${')'.repeat(braces)}$`);
}
