/** The registry as the runtime's ToolCatalog port. */
import type { ToolCatalog } from '../runtime/deps.ts';
import { prepareCall, toolSpecs } from './registry.ts';

export const toolCatalog: ToolCatalog = {
  specs: toolSpecs,
  prepare: (role, call) => {
    const prepared = prepareCall(role, call);
    if (!prepared.ok) return prepared;
    const { tool, args } = prepared;
    return {
      ok: true,
      args,
      tool: tool.kind === 'action'
        ? {
            name: tool.name,
            readOnly: tool.readOnly,
            execute: (a: never, ctx) => tool.execute(a, ctx),
            ...(tool.recover ? { recover: (a: never, ctx: Parameters<typeof tool.execute>[1]) => tool.recover!(a, ctx) } : {}),
          }
        : { name: tool.name, readOnly: tool.readOnly },
    };
  },
};
