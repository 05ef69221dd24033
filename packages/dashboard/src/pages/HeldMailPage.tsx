import { HeldMail } from '../components/email/HeldMail.tsx';
import { canEditTickets, useMe } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function HeldMailPage() {
  usePageTitle('Held mail');
  const me = useMe();
  // The API lets agents and admins review held mail; a viewer would only get 403s.
  if (!canEditTickets(me)) {
    return (
      <section aria-labelledby="held-mail-title">
        <h1 id="held-mail-title">Held mail</h1>
        <p className="notice">Only agents and admins can review held mail.</p>
      </section>
    );
  }
  return <HeldMail />;
}
