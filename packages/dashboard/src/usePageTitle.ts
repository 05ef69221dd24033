// The browser tab (and screen readers, on navigation) name the page being looked at.
import { useEffect } from 'react';

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Switchboard` : 'Switchboard';
  }, [title]);
}
