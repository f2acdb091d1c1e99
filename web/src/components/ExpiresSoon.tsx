// The flag beside a key's expiration when it stops working within a week (issue 19 item 3).
import { EXPIRES_SOON_DAYS, expiresSoon } from '../format';

export function ExpiresSoon({ expiration }: { expiration: string | null | undefined }) {
  if (!expiresSoon(expiration)) return null;
  return (
    <span className="badge expires-soon" data-testid="expires-soon" title={`This key stops working within ${EXPIRES_SOON_DAYS} days: rotate it or make a new one`}>
      Expires soon
    </span>
  );
}
