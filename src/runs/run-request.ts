/**
 * What a run may ask (DESIGN.md section 7), checked before anything is sent: pure, no I/O.
 */
import { type ChatRequest, type ChatTool } from '../providers/provider-calls';
import { badInput } from '../errors';
import { MessageRole, type RunAgentInput } from './run.types';

const MAX_MESSAGES = 500;
const MAX_TOKENS_LIMIT = 128_000;
const MAX_TOOLS = 64;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a run's request before anything is sent; BAD_USER_INPUT naming the field otherwise. */
export function checkedRequest(input: RunAgentInput): Omit<ChatRequest, 'model'> {
  if (input.messages.length === 0) throw badInput('messages must hold at least one message', 'input.messages');
  if (input.messages.length > MAX_MESSAGES) throw badInput(`messages may hold at most ${MAX_MESSAGES} messages`, 'input.messages');
  input.messages.forEach((message, index) => {
    if (message.content.trim().length === 0) throw badInput(`messages[${index}].content must not be blank`, `input.messages.${index}.content`);
  });
  const maxTokens = input.maxTokens ?? 1024;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) {
    throw badInput(`maxTokens must be between 1 and ${MAX_TOKENS_LIMIT}`, 'input.maxTokens');
  }
  const tools = input.tools ?? [];
  if (tools.length > MAX_TOOLS) throw badInput(`tools may hold at most ${MAX_TOOLS} tools`, 'input.tools');
  const names = new Set<string>();
  const checkedTools: ChatTool[] = tools.map((tool, index) => {
    const field = `input.tools.${index}`;
    if (!TOOL_NAME.test(tool.name)) throw badInput(`tools[${index}].name must be 1 to 64 letters, digits, '_' or '-'`, `${field}.name`);
    if (names.has(tool.name)) throw badInput(`tools[${index}].name repeats the tool name '${tool.name}'`, `${field}.name`);
    names.add(tool.name);
    const schema = tool.inputSchema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || (schema as { type?: unknown }).type !== 'object') {
      throw badInput(`tools[${index}].inputSchema must be a JSON Schema object with "type": "object"`, `${field}.inputSchema`);
    }
    return { name: tool.name, description: tool.description, inputSchema: schema as Record<string, unknown> };
  });
  return {
    system: input.system,
    messages: input.messages.map((message) => ({ role: message.role === MessageRole.ASSISTANT ? 'assistant' : 'user', content: message.content })),
    tools: checkedTools,
    maxTokens,
  };
}
