import type { EffectiveFieldsFragment } from './gql/graphql';
import { BILLING, capabilityList, PROVIDERS, SOURCES } from './labels';

/** What the organization's agents use now, read-only, as effectiveModels answers it. */
export function EffectiveModelsSection({ effective }: { effective: EffectiveFieldsFragment }) {
  const source = effective.source === 'INHERITED' && effective.inheritedFrom ? `Inherited from ${effective.inheritedFrom.name}` : SOURCES[effective.source];
  return (
    <section className="card" aria-labelledby="effective-title">
      <div className="card-header">
        <h2 id="effective-title">Models in use</h2>
        <span className="badge neutral" data-testid="effective-source">
          {source}
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>Primary model</dt>
          <dd data-testid="effective-primary">
            <code>{effective.primary.model.id}</code> <span className="muted">· {BILLING[effective.primary.billing]}</span>
          </dd>
        </div>
        <div>
          <dt>Fallback model</dt>
          <dd data-testid="effective-fallback">
            {effective.fallback ? (
              <>
                <code>{effective.fallback.model.id}</code> <span className="muted">· {BILLING[effective.fallback.billing]}</span>
              </>
            ) : (
              <span className="muted">None</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Platform models</dt>
          <dd>{effective.exclusive ? 'Hidden: only custom LLM models are offered' : 'Offered beside custom models'}</dd>
        </div>
      </dl>
      <h3 className="subheading">Offered in every model dropdown</h3>
      <table className="models" aria-label="Models offered in this organization">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Provider</th>
            <th scope="col">Capabilities</th>
            <th scope="col">Billed to</th>
          </tr>
        </thead>
        <tbody>
          {effective.availableModels.map((option) => (
            <tr key={option.model.id}>
              <td>
                <code>{option.model.id}</code>
              </td>
              <td>{PROVIDERS[option.model.provider]}</td>
              <td>{capabilityList(option.model.capabilities)}</td>
              <td>{BILLING[option.billing]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
