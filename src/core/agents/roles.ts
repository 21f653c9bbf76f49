/** Role prompts: one nunjucks template beside each role, rendered strictly. */
import type { Role } from '../events/schema.ts';
import { renderTemplate } from '../prompts/render.ts';
import orchestrator from './orchestrator/system.njk';
import developer from './developer/system.njk';
import tester from './tester/system.njk';

const SYSTEM: Record<Role, string> = { orchestrator, developer, tester };

export interface PromptVars {
  workspaceName: string;
  requireTesterPass: boolean;
}

export function systemPromptFor(role: Role, vars: PromptVars): string {
  return renderTemplate(SYSTEM[role], { ...vars });
}
