import assert from 'node:assert/strict';
import type { Role, ToolCallRecord } from '../../src/core/events/schema.ts';
import { prepareCall, toolSpecs, toolsForRole } from '../../src/core/tools/registry.ts';

const call = (name: string, argsText: string): ToolCallRecord => ({ id: 'call-1', name, argsText });

function prepared(role: Role, name: string, argsText: string): Record<string, unknown> {
  const result = prepareCall(role, call(name, argsText));
  assert.ok(result.ok, `expected ${name} ${argsText} to be accepted, got: ${result.ok ? '' : result.error}`);
  assert.equal(result.tool.name, name);
  return result.args;
}

function rejected(role: Role, name: string, argsText: string): string {
  const result = prepareCall(role, call(name, argsText));
  assert.ok(!result.ok, `expected ${name} ${argsText} to be rejected`);
  return result.error;
}

const EXPECTED_TOOLS: Record<Role, string[]> = {
  orchestrator: ['read_file', 'list_files', 'search_files', 'delegate', 'ask_user', 'finish'],
  developer: ['read_file', 'list_files', 'search_files', 'write_file', 'edit_file', 'run_command', 'finish'],
  tester: ['read_file', 'list_files', 'search_files', 'write_file', 'edit_file', 'run_command', 'finish'],
};

const EXPECTED_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  read_file: { required: ['path'], optional: ['offset', 'limit'] },
  list_files: { required: [], optional: ['path', 'depth'] },
  search_files: { required: ['pattern'], optional: ['path', 'glob'] },
  write_file: { required: ['path', 'content'], optional: [] },
  edit_file: { required: ['path', 'old_string', 'new_string'], optional: ['replace_all'] },
  run_command: { required: ['command'], optional: ['timeout_s'] },
  finish: { required: ['summary'], optional: ['verdict'] },
  delegate: { required: ['agent', 'task'], optional: [] },
  ask_user: { required: ['question'], optional: [] },
};

describe('tool registry', () => {
  describe('roles', () => {
    for (const role of ['orchestrator', 'developer', 'tester'] as const) {
      it(`gives the ${role} exactly its tools`, () => {
        assert.deepEqual(toolsForRole(role).map((t) => t.name).sort(), [...EXPECTED_TOOLS[role]].sort());
        assert.deepEqual(toolSpecs(role).map((s) => s.name).sort(), [...EXPECTED_TOOLS[role]].sort());
      });
    }

    it('marks finish, delegate and ask_user as control tools and the rest as executable', () => {
      const all = [...toolsForRole('orchestrator'), ...toolsForRole('developer')];
      for (const tool of all) {
        const control = ['finish', 'delegate', 'ask_user'].includes(tool.name);
        assert.equal(tool.kind, control ? 'control' : 'action', tool.name);
        assert.equal('execute' in tool, !control, tool.name);
      }
    });

    it('marks only the reading tools (and control tools without side effects) read-only', () => {
      const readOnly = [...toolsForRole('orchestrator'), ...toolsForRole('developer')].filter((t) => t.readOnly).map((t) => t.name);
      assert.deepEqual([...new Set(readOnly)].sort(), ['ask_user', 'finish', 'list_files', 'read_file', 'search_files']);
    });
  });

  describe('JSON Schema sent to providers', () => {
    const specs = [...toolSpecs('orchestrator'), ...toolSpecs('developer')];
    for (const name of Object.keys(EXPECTED_FIELDS)) {
      it(`${name}: a strict object with the contract's fields`, () => {
        const spec = specs.find((s) => s.name === name);
        assert.ok(spec, name);
        const schema = spec.inputSchema;
        const expected = EXPECTED_FIELDS[name];
        assert.ok(expected);
        assert.equal(schema.type, 'object');
        assert.equal(schema.additionalProperties, false);
        assert.equal('$schema' in schema, false);
        assert.deepEqual([...(schema.required as string[])].sort(), [...expected.required].sort());
        const properties = schema.properties as Record<string, Record<string, unknown>>;
        assert.deepEqual(Object.keys(properties).sort(), [...expected.required, ...expected.optional].sort());
        for (const [field, property] of Object.entries(properties)) {
          assert.equal(typeof property.type, 'string', `${name}.${field} has a type`);
          assert.equal(typeof property.description, 'string', `${name}.${field} is described`);
          assert.notEqual(property.maximum, Number.MAX_SAFE_INTEGER, `${name}.${field} has no synthetic bound`);
        }
        assert.ok(spec.description.length > 20);
        assert.doesNotThrow(() => JSON.stringify(schema));
      });
    }

    it('states the numeric limits and enums of the contract', () => {
      const props = (name: string) => specs.find((s) => s.name === name)?.inputSchema.properties as Record<string, Record<string, unknown>>;
      assert.deepEqual(props('run_command').timeout_s, { ...props('run_command').timeout_s, type: 'integer', minimum: 1, maximum: 600 });
      assert.deepEqual(props('read_file').offset?.minimum, 1);
      assert.deepEqual(props('delegate').agent?.enum, ['developer', 'tester']);
      assert.deepEqual(props('finish').verdict?.enum, ['pass', 'fail']);
      assert.equal(props('edit_file').replace_all?.type, 'boolean');
    });

    it('tells the model that read_file output carries line numbers', () => {
      assert.match(toolSpecs('developer').find((s) => s.name === 'read_file')?.description ?? '', /line number/);
    });
  });

  describe('prepareCall', () => {
    it('parses valid arguments and applies defaults', () => {
      assert.deepEqual(prepared('developer', 'read_file', '{"path":"a.ts","offset":3}'), { path: 'a.ts', offset: 3 });
      assert.deepEqual(prepared('developer', 'edit_file', '{"path":"a","old_string":"x","new_string":"y"}'), {
        path: 'a',
        old_string: 'x',
        new_string: 'y',
        replace_all: false,
      });
      assert.deepEqual(prepared('orchestrator', 'delegate', '{"agent":"tester","task":"check it"}'), { agent: 'tester', task: 'check it' });
      assert.deepEqual(prepared('tester', 'finish', '{"summary":"ok","verdict":"pass"}'), { summary: 'ok', verdict: 'pass' });
    });

    it('treats null for an optional argument as absent, but not for a required one', () => {
      assert.deepEqual(prepared('developer', 'read_file', '{"path":"a.ts","offset":null,"limit":null}'), { path: 'a.ts' });
      assert.match(rejected('developer', 'read_file', '{"path":null}'), /"path" must be a string, got null/);
    });

    it('treats empty or blank arguments as {}', () => {
      assert.deepEqual(prepared('developer', 'list_files', ''), {});
      assert.deepEqual(prepared('developer', 'list_files', '  \n'), {});
      assert.match(rejected('developer', 'read_file', ''), /missing required argument "path" \(a string\)/);
    });

    it('names the available tools for an unknown tool', () => {
      const error = rejected('developer', 'delete_file', '{}');
      assert.match(error, /Unknown tool "delete_file"/);
      assert.match(error, /read_file, list_files, search_files, write_file, edit_file, run_command, finish/);
    });

    it('refuses a tool the role does not have, and says which it has', () => {
      const error = rejected('orchestrator', 'write_file', '{"path":"a","content":""}');
      assert.match(error, /"write_file" is not available to the orchestrator/);
      assert.match(error, /delegate/);
      assert.match(rejected('developer', 'delegate', '{"agent":"tester","task":"x"}'), /not available to the developer/);
      assert.match(rejected('tester', 'ask_user', '{"question":"?"}'), /not available to the tester/);
    });

    it('says when the arguments are not valid JSON and quotes a short excerpt', () => {
      const error = rejected('developer', 'read_file', '{"path": "a.ts"');
      assert.match(error, /not valid JSON/);
      assert.match(error, /\{\\"path\\": \\"a\.ts\\"/);
      assert.match(error, /"path": string/);
      const long = rejected('developer', 'write_file', `{"path": "a", "content": "${'x'.repeat(5000)}`);
      assert.ok(long.length < 600, `excerpt kept short (${long.length} chars)`);
    });

    it('requires a JSON object', () => {
      assert.match(rejected('developer', 'read_file', '["a.ts"]'), /must be a JSON object, got an array/);
      assert.match(rejected('developer', 'read_file', '"a.ts"'), /must be a JSON object, got the string "a\.ts"/);
      assert.match(rejected('developer', 'read_file', 'null'), /must be a JSON object, got null/);
    });

    it('names each missing, wrong-typed and extra argument', () => {
      const error = rejected('developer', 'read_file', '{"offset":"10","limit":2.5,"encoding":"utf8"}');
      assert.match(error, /^Invalid arguments for read_file:/);
      assert.match(error, /missing required argument "path" \(a string\)/);
      assert.match(error, /"offset" must be an integer, got the string "10"/);
      assert.match(error, /"limit" must be an integer, got the non-integer 2\.5/);
      assert.match(error, /unexpected argument "encoding" \(read_file accepts only: path, offset, limit\)/);
      assert.match(error, /Expected \{"path": string, "offset"\?: integer, "limit"\?: integer\}/);
    });

    it('explains enum, range and emptiness violations', () => {
      assert.match(rejected('orchestrator', 'delegate', '{"agent":"coder","task":"x"}'), /"agent" must be one of "developer", "tester", got the string "coder"/);
      assert.match(rejected('developer', 'run_command', '{"command":"ls","timeout_s":900}'), /"timeout_s" must be at most 600, got 900/);
      assert.match(rejected('developer', 'run_command', '{"command":"ls","timeout_s":0}'), /"timeout_s" must be at least 1, got 0/);
      assert.match(rejected('developer', 'run_command', '{"command":"   "}'), /"command" must not be empty/);
      assert.match(rejected('developer', 'edit_file', '{"path":"a","old_string":"","new_string":"x"}'), /"old_string" must not be empty/);
      assert.match(rejected('tester', 'finish', '{"summary":"done","verdict":"passed"}'), /"verdict" must be one of "pass", "fail"/);
      assert.match(rejected('developer', 'edit_file', '{"path":"a","old_string":"x","new_string":"y","replace_all":"yes"}'), /"replace_all" must be a boolean, got the string "yes"/);
    });
  });
});
