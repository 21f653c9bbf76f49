import assert from 'node:assert/strict';
import tpl from '../fixtures/hello.njk';
describe('loader', () => { it('loads njk as text', () => { assert.equal(tpl.trim(), 'hello {{ name }}'); }); });
