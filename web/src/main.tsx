import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SettingsPage } from './SettingsPage';
import { takeToken } from './token';
import './styles.css';

const token = takeToken();
const organizationId = new URLSearchParams(window.location.search).get('organization');

const client = new ApolloClient({
  link: new HttpLink({ uri: '/graphql', headers: token ? { authorization: `Bearer ${token}` } : {} }),
  cache: new InMemoryCache(),
});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <SettingsPage token={token} organizationId={organizationId} />
    </ApolloProvider>
  </StrictMode>,
);
