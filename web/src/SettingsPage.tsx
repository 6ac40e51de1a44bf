import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { apiErrors, isAt } from './errors';
import { ConnectionsSection } from './ConnectionsSection';
import { EffectiveModelsSection } from './EffectiveModelsSection';
import { ModelsForm, type SaveOutcome } from './ModelsForm';
import { SETTINGS_PAGE } from './operations';

/**
 * Settings → Organization → Models (DESIGN.md section 12). What it shows is what the API answers
 * to one query: admin-only fields that come back null with FORBIDDEN make the page read-only; an
 * organization that comes back null with FORBIDDEN is one the caller has no access to.
 */
export function SettingsPage({ token, organizationId }: { token: string | null; organizationId: string | null }) {
  if (!token) {
    return (
      <Shell>
        <Message title="Sign in to see this page">
          Open it with a token in the address: <code>#token=&lt;your token&gt;</code> (in development,{' '}
          <code>npm run -s token -- --sub &lt;you&gt; --organization &lt;id&gt;</code> prints the address).
        </Message>
      </Shell>
    );
  }
  if (!organizationId) {
    return (
      <Shell>
        <Message title="Which organization?">
          Add the organization to the address: <code>?organization=&lt;organization id&gt;</code>.
        </Message>
      </Shell>
    );
  }
  return <Loaded organizationId={organizationId} />;
}

function Loaded({ organizationId }: { organizationId: string }) {
  const { data, error, loading, refetch } = useQuery(SETTINGS_PAGE, {
    variables: { id: organizationId },
    // Fields the caller may not read arrive as null with FORBIDDEN beside the rest: keep the rest.
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  const [saved, setSaved] = useState<SaveOutcome | null>(null);
  const errors = apiErrors(error);
  const organization = data?.organization;

  if (loading && !data) {
    return (
      <Shell>
        <p className="loading" role="status">
          Loading…
        </p>
      </Shell>
    );
  }
  if (errors.some((problem) => problem.code === 'UNAUTHENTICATED')) {
    return (
      <Shell>
        <Message title="Your session has ended">{errors.find((problem) => problem.code === 'UNAUTHENTICATED')?.message}. Open the page again with a new token.</Message>
      </Shell>
    );
  }
  if (!organization) {
    const refused = errors.find((problem) => isAt(problem, ['organization']));
    return (
      <Shell>
        <Message title="You don't have access to this organization">
          {refused?.code === 'FORBIDDEN' || refused?.code === 'NOT_FOUND'
            ? 'Ask an admin of the organization to add you, or check the organization in the address.'
            : (refused?.message ?? errors[0]?.message ?? 'The organization could not be loaded.')}
        </Message>
      </Shell>
    );
  }

  // Admin-only fields: present for those who may manage the settings, null with FORBIDDEN otherwise.
  const connections = organization.providerConnections;
  const pinnable = organization.pinnableModels;
  const manages = connections != null && pinnable != null;
  const role = data?.viewer.isOperator ? 'Platform operator' : organization.viewerRole === 'ADMIN' ? 'Admin' : organization.viewerRole === 'MEMBER' ? 'Member' : null;
  const unexpected = errors.filter((problem) => problem.code !== 'FORBIDDEN');

  return (
    <Shell organizationName={organization.name} role={role}>
      {unexpected.length > 0 && (
        <div className="banner error" role="alert">
          {unexpected.map((problem) => problem.message).join(' ')}
        </div>
      )}
      {!manages && (
        <p className="read-only-note" id="read-only-note">
          Only admins of {organization.name} can change these settings. You see the models its agents use.
        </p>
      )}
      {manages && (
        <>
          <ConnectionsSection organizationId={organization.id} connections={connections} onChanged={() => refetch()} />
          <ModelsForm
            key={`${organization.modelSettings?.version ?? 0}`}
            organizationId={organization.id}
            organizationName={organization.name}
            isParent={organization.isParent ?? false}
            settings={organization.modelSettings ?? null}
            pinnable={pinnable}
            reload={async () => {
              await refetch();
            }}
            saved={saved}
            onSaved={setSaved}
          />
        </>
      )}
      {organization.effectiveModels && <EffectiveModelsSection effective={organization.effectiveModels} />}
    </Shell>
  );
}

function Shell({ children, organizationName, role }: { children: React.ReactNode; organizationName?: string; role?: string | null }) {
  return (
    <div className="layout">
      <aside className="sidebar" aria-label="Settings">
        <div className="brand">Settings</div>
        <nav aria-label="Settings sections">
          <p className="nav-group">Organization</p>
          <ul>
            <li>
              <a aria-current="page" href={window.location.pathname + window.location.search}>
                Models
              </a>
            </li>
          </ul>
        </nav>
      </aside>
      <main className="content">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <ol>
            <li>Settings</li>
            <li>Organization</li>
            <li aria-current="page">Models</li>
          </ol>
        </nav>
        <header className="page-header">
          <h1>Models</h1>
          {organizationName && (
            <p className="subtitle">
              <span className="org-name">{organizationName}</span>
              {role && <span className="badge neutral">{role}</span>}
            </p>
          )}
          <p className="lede">Bring your own model: connect your Anthropic or OpenAI account and choose the models this organization's agents use.</p>
        </header>
        {children}
      </main>
    </div>
  );
}

function Message({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="card message" role="alert" aria-labelledby="message-title">
      <h2 id="message-title">{title}</h2>
      <p>{children}</p>
    </section>
  );
}
