import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from '@tanstack/react-router';
import { api } from '../api/client';

/** Logs out, then goes to the log-in page (and back to `returnTo` after the next log-in). */
export function useLogOut(returnTo?: string) {
  const queryClient = useQueryClient();
  const router = useRouter();
  return useMutation({
    mutationFn: api.logOut,
    // Whatever the server says (even "already logged out"), forget everything
    // this browser holds about the session and its data.
    // Leave the signed-in pages first so nothing re-asks for the data.
    onSettled: async () => {
      await router.navigate({ to: '/login', search: returnTo === undefined ? {} : { return_to: returnTo } });
      queryClient.clear();
    },
  });
}
