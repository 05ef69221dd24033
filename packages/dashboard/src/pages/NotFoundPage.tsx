import { Link } from 'react-router';
import { usePageTitle } from '../usePageTitle.ts';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <section aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/tickets">Go to the tickets</Link>.
      </p>
    </section>
  );
}
