'use client';

import { useEffect } from 'react';
import { signInAgain } from '@/lib/api';

/**
 * Sends the admin to sign-in (and back here afterwards) once the session's idle time has passed without
 * any input; the server ends the session on its own clock as well.
 */
export function IdleWatcher({ timeoutSeconds }: { timeoutSeconds: number }) {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(signInAgain, timeoutSeconds * 1000 + 1000);
    };
    const events = ['keydown', 'pointerdown', 'wheel'] as const;
    events.forEach((e) => window.addEventListener(e, reset, { passive: true }));
    reset();
    return () => {
      clearTimeout(timer);
      events.forEach((e) => window.removeEventListener(e, reset));
    };
  }, [timeoutSeconds]);
  return null;
}
