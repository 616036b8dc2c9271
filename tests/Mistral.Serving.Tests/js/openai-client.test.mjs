// The official openai client against a running `mistral-cu serve`, exactly as a user's code calls it.
// OpenAiNodeClientTests starts the server and passes MISTRAL_CU_BASE_URL (…/v1), MISTRAL_CU_API_KEY,
// MISTRAL_CU_MODEL and MISTRAL_CU_CHAT (1 when the model has a chat template).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.MISTRAL_CU_BASE_URL, apiKey: process.env.MISTRAL_CU_API_KEY, maxRetries: 0 });
const model = process.env.MISTRAL_CU_MODEL;
const hasChat = process.env.MISTRAL_CU_CHAT === '1';

test('models.list names the served model', async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), [model]);
});

test('completions.create: text, finish_reason and usage', async () => {
  const r = await client.completions.create({ model, prompt: 'Hello, my name is', max_tokens: 6, temperature: 0, ignore_eos: true });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  assert.equal(typeof r.choices[0].text, 'string');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 6);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 6);
});

test('completions.create with stream: chunks add up to the same greedy text', async () => {
  const whole = await client.completions.create({ model, prompt: 'The sky is', max_tokens: 8, temperature: 0 });
  const stream = await client.completions.create({ model, prompt: 'The sky is', max_tokens: 8, temperature: 0, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0].text;
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, whole.choices[0].text);
  assert.equal(finish, whole.choices[0].finish_reason);
});

test('chat.completions.create with stream: role, then content deltas, then finish_reason', { skip: !hasChat && 'the model has no chat template' }, async () => {
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is a llama?' }];
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  assert.equal(whole.choices[0].message.role, 'assistant');
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let content = '';
  let role = null;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    role ??= chunk.choices[0].delta.role ?? null;
    content += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(role, 'assistant');
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

test('chat without a template is a BadRequestError', { skip: hasChat && 'the model has a chat template' }, async () => {
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'chat_template_missing');
});

test('errors arrive as the client\'s typed errors', async () => {
  await assert.rejects(client.completions.create({ model: 'no-such-model', prompt: 'hi' }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  await assert.rejects(client.completions.create({ model, prompt: 'hi', max_tokens: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens');
  const stranger = new OpenAI({ baseURL: process.env.MISTRAL_CU_BASE_URL, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(stranger.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
});
