// The dashboard's pages and who may see them: everything but the login and join pages needs a session.
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout.tsx';
import { RequireSession } from './components/RequireSession.tsx';
import { HeldMailPage } from './pages/HeldMailPage.tsx';
import { IntegrationsPage } from './pages/IntegrationsPage.tsx';
import { JoinPage } from './pages/JoinPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { MembersPage } from './pages/MembersPage.tsx';
import { NewTicketPage } from './pages/NewTicketPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { NotificationPreferencesPage } from './pages/NotificationPreferencesPage.tsx';
import { NotificationRulesPage } from './pages/NotificationRulesPage.tsx';
import { NotificationsPage } from './pages/NotificationsPage.tsx';
import { TicketDetailPage } from './pages/TicketDetailPage.tsx';
import { TicketListPage } from './pages/TicketListPage.tsx';
import { WebhooksPage } from './pages/WebhooksPage.tsx';
import { SessionProvider } from './session.tsx';

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          {/* An invitation link: the invitee may have no account yet. */}
          <Route path="/join" element={<JoinPage />} />
          <Route
            element={
              <RequireSession>
                <Layout />
              </RequireSession>
            }
          >
            <Route index element={<Navigate to="/tickets" replace />} />
            <Route path="tickets" element={<TicketListPage />} />
            <Route path="tickets/new" element={<NewTicketPage />} />
            <Route path="tickets/:ticketId" element={<TicketDetailPage />} />
            <Route path="email/held" element={<HeldMailPage />} />
            <Route path="settings/integrations" element={<IntegrationsPage />} />
            <Route path="settings/integrations/webhooks" element={<WebhooksPage />} />
            <Route path="settings/members" element={<MembersPage />} />
            <Route path="notifications" element={<NotificationsPage />} />
            <Route path="settings/notifications" element={<NotificationPreferencesPage />} />
            <Route path="settings/notifications/rules" element={<NotificationRulesPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
