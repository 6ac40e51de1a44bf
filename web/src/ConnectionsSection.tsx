import { useMutation } from '@apollo/client/react';
import { useEffect, useId, useRef, useState } from 'react';
import { type ApiError, apiErrors } from './errors';
import type { ConnectionFieldsFragment, Provider } from './gql/graphql';
import { formatDate, PROVIDER_ORDER, PROVIDERS } from './labels';
import { CONNECT_PROVIDER, DISCONNECT_PROVIDER } from './operations';

interface Use {
  organizationId: string;
  organizationName: string;
  role: 'PRIMARY' | 'FALLBACK';
  modelId: string;
  source: 'OWN' | 'INHERITED';
}

/** The organization's provider accounts: connect, rotate the key, disconnect. */
export function ConnectionsSection({
  organizationId,
  connections,
  onChanged,
}: {
  organizationId: string;
  connections: readonly ConnectionFieldsFragment[];
  onChanged: () => void;
}) {
  const [dialog, setDialog] = useState<Provider | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const connected = (provider: Provider) => connections.find((connection) => connection.provider === provider);

  return (
    <section className="card" aria-labelledby="providers-title">
      <div className="card-header">
        <h2 id="providers-title">LLM providers</h2>
      </div>
      <p className="muted">
        Use a key from your own Anthropic console or OpenAI dashboard. It is stored encrypted and used only for this organization's requests.
      </p>
      <ul className="providers">
        {PROVIDER_ORDER.map((provider) => {
          const connection = connected(provider);
          return (
            <li key={provider} className="provider">
              {connection ? (
                <ConnectedProvider
                  organizationId={organizationId}
                  connection={connection}
                  onRotate={(button) => {
                    opener.current = button;
                    setDialog(provider);
                  }}
                  onDisconnected={onChanged}
                />
              ) : (
                <div className="provider-row">
                  <div>
                    <h3>{PROVIDERS[provider]}</h3>
                    <p className="muted">Not connected</p>
                  </div>
                  <button
                    type="button"
                    className="primary"
                    onClick={(event) => {
                      opener.current = event.currentTarget;
                      setDialog(provider);
                    }}
                  >
                    Connect {PROVIDERS[provider]}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {dialog && (
        <ConnectDialog
          organizationId={organizationId}
          provider={dialog}
          rotating={connected(dialog) !== undefined}
          onClose={() => {
            setDialog(null);
            opener.current?.focus();
          }}
        />
      )}
    </section>
  );
}

function ConnectedProvider({
  organizationId,
  connection,
  onRotate,
  onDisconnected,
}: {
  organizationId: string;
  connection: ConnectionFieldsFragment;
  onRotate: (button: HTMLButtonElement) => void;
  onDisconnected: () => void;
}) {
  const name = PROVIDERS[connection.provider];
  const [disconnect, { loading }] = useMutation(DISCONNECT_PROVIDER);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const problemId = useId();

  async function onDisconnect() {
    setProblem(null);
    try {
      await disconnect({ variables: { input: { organizationId, provider: connection.provider } } });
      // disconnectProvider answers a Boolean: the page reads the organization again.
      onDisconnected();
    } catch (error) {
      setProblem(apiErrors(error)[0] ?? null);
    }
  }

  const uses = (problem?.extensions.uses as Use[] | undefined) ?? [];
  const inheriting = Number(problem?.extensions.inheritingSubOrganizations ?? 0);
  const namedInheriting = new Set(uses.filter((use) => use.source === 'INHERITED').map((use) => use.organizationId)).size;

  return (
    <div className="provider-connected">
      <div className="provider-row">
        <div>
          <h3>{name}</h3>
          <p className="connection-facts">
            <span>
              Key <code data-testid={`key-hint-${connection.provider}`}>{connection.keyHint}</code>
            </span>
            <span className={`badge ${connection.status === 'VERIFIED' ? 'good' : 'bad'}`} data-testid={`status-${connection.provider}`}>
              {connection.status}
            </span>
            <span className="muted">Connected {formatDate(connection.connectedAt)}</span>
            {connection.rotatedAt && <span className="muted">Key replaced {formatDate(connection.rotatedAt)}</span>}
          </p>
        </div>
        <div className="actions">
          <button type="button" onClick={(event) => onRotate(event.currentTarget)} aria-label={`Rotate ${name} key`}>
            Rotate key
          </button>
          <button
            type="button"
            className="danger"
            onClick={onDisconnect}
            disabled={loading}
            aria-label={`Disconnect ${name}`}
            aria-describedby={problem ? problemId : undefined}
          >
            {loading ? 'Disconnecting…' : 'Disconnect'}
          </button>
        </div>
      </div>
      {problem && (
        <div className="field-error" role="alert" id={problemId} data-testid={`disconnect-error-${connection.provider}`}>
          {problem.code === 'CONNECTION_IN_USE' ? (
            <>
              <p>{name} can't be disconnected while models run on it:</p>
              <ul>
                {uses.map((use) => (
                  <li key={`${use.organizationId}-${use.role}`}>
                    {use.role === 'PRIMARY' ? 'Primary' : 'Fallback'} model <code>{use.modelId}</code> of <strong>{use.organizationName}</strong>
                    {use.source === 'INHERITED' ? ' (inherited)' : ' (its own settings)'}
                  </li>
                ))}
                {inheriting > namedInheriting && <li>and {inheriting - namedInheriting} more sub-organizations inheriting them</li>}
              </ul>
              <p>Choose other models first.</p>
            </>
          ) : (
            <p>{problem.message}</p>
          )}
        </div>
      )}
    </div>
  );
}

function ConnectDialog({ organizationId, provider, rotating, onClose }: { organizationId: string; provider: Provider; rotating: boolean; onClose: () => void }) {
  const name = PROVIDERS[provider];
  const dialog = useRef<HTMLDialogElement>(null);
  const [apiKey, setApiKey] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [connect, { loading }] = useMutation(CONNECT_PROVIDER);
  const titleId = useId();
  const errorId = useId();
  const hintId = useId();

  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      await connect({ variables: { input: { organizationId, provider, apiKey } } });
      setApiKey('');
      dialog.current?.close();
    } catch (error) {
      setProblem(apiErrors(error)[0] ?? null);
    }
  }

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      onClose={() => {
        setApiKey('');
        onClose();
      }}
    >
      <form onSubmit={onSubmit} autoComplete="off">
        <h2 id={titleId}>{rotating ? `Rotate ${name} key` : `Connect ${name}`}</h2>
        <p className="muted" id={hintId}>
          {rotating ? 'The new key replaces the stored one once the provider accepts it.' : `Paste an API key from your ${name} account.`} The key is checked
          with {name}, stored encrypted and never shown again.
        </p>
        <label htmlFor={`${titleId}-key`}>API key</label>
        <input
          id={`${titleId}-key`}
          type="password"
          name="apiKey"
          autoComplete="off"
          spellCheck={false}
          required
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
          placeholder={provider === 'ANTHROPIC' ? 'sk-ant-…' : 'sk-…'}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${hintId} ${errorId}` : hintId}
          autoFocus
        />
        {problem && (
          <p className="field-error" role="alert" id={errorId}>
            {problem.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={loading || apiKey === ''}>
            {loading ? 'Checking the key…' : rotating ? 'Replace key' : `Connect ${name}`}
          </button>
        </div>
      </form>
    </dialog>
  );
}
