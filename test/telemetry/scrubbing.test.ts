import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { scrubbed } from '../../src/telemetry/tracing';

/** Only what scrubbed() reads of a span; the rest of a ReadableSpan is carried over untouched. */
const spanWith = (parts: Partial<Pick<ReadableSpan, 'attributes' | 'events' | 'status'>>) =>
  ({ name: 'a span', attributes: {}, events: [], status: { code: SpanStatusCode.UNSET }, ...parts }) as unknown as ReadableSpan;

describe('a span as it may leave the process (scrubbed)', () => {
  it('is exported as it is when it holds nothing to take out', () => {
    const span = spanWith({
      attributes: { 'http.route': '/graphql', 'url.full': 'http://127.0.0.1/graphql', 'db.statement': 'SELECT $1' },
      events: [{ name: 'exception', time: [0, 0], attributes: { 'exception.type': 'TypeError' } }],
      status: { code: SpanStatusCode.ERROR, message: 'PROVIDER_UNREACHABLE' },
    });
    expect(scrubbed(span)).toBe(span);
  });

  it('drops parameters and variables, cuts queries off URLs, keeps the other attributes in their order', () => {
    const span = spanWith({
      attributes: { 'db.statement': 'SELECT $1', 'db.postgresql.values': ['canary'], 'url.full': 'http://127.0.0.1/graphql?token=canary', 'url.query': 'token=canary', 'graphql.variables.key': 'canary', 'http.method': 'POST' },
    });
    const out = scrubbed(span);
    expect(out).not.toBe(span);
    expect(out.attributes).toEqual({ 'db.statement': 'SELECT $1', 'url.full': 'http://127.0.0.1/graphql', 'http.method': 'POST' });
    expect(Object.keys(out.attributes)).toEqual(['db.statement', 'url.full', 'http.method']);
    expect(out.name).toBe('a span');
    // The span it came from is left as it was.
    expect(span.attributes['db.postgresql.values']).toEqual(['canary']);
  });

  it('reduces exception events to their type and keeps a status message only when it is a code', () => {
    const span = spanWith({
      events: [
        { name: 'exception', time: [0, 0], attributes: { 'exception.type': 'error', 'exception.message': 'key sk-canary refused' } },
        { name: 'exception', time: [0, 0], attributes: { 'exception.message': 'canary' } },
        { name: 'retry', time: [0, 0], attributes: { attempt: 2 } },
      ],
      status: { code: SpanStatusCode.ERROR, message: 'duplicate key value (canary)' },
    });
    const out = scrubbed(span);
    expect(out.events.map((event) => event.attributes)).toEqual([{ 'exception.type': 'error' }, { 'exception.type': 'Error' }, { attempt: 2 }]);
    expect(out.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(JSON.stringify([out.attributes, out.events, out.status])).not.toContain('canary');
  });
});
