import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queryKeys } from '../api/queries';
import { createPasskey } from '../lib/passkeys';
import { BusyButton } from './busy-button';
import { ErrorNotice } from './error-notice';
import { TextField } from './text-field';

type Props = {
  /** `recoveryCodes` only when this was the account's first second factor. */
  onAdded: (recoveryCodes: string[] | null) => void;
};

/** Registers a passkey (this device, a phone or a security key) under a name the user picks. */
export function PasskeySetup({ onAdded }: Props) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');

  const add = useMutation({
    mutationFn: async () => {
      const options = await api.getPasskeyCreationOptions();
      return api.addPasskey(name.trim(), await createPasskey(options));
    },
    onSuccess: ({ recoveryCodes }) => {
      setName('');
      // The session may have been replaced (enrollment done): every answer about it is stale.
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
      onAdded(recoveryCodes);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    add.mutate();
  }

  return (
    <form onSubmit={submit} className="form form-narrow">
      <TextField
        label="Passkey name"
        name="passkey-name"
        type="text"
        autoComplete="off"
        required
        maxLength={100}
        value={name}
        onChange={setName}
        placeholder="Work laptop"
        hint="To tell your passkeys apart later, e.g. the device or key it lives on."
      />
      <ErrorNotice error={add.error} />
      <BusyButton busy={add.isPending} busyLabel="Waiting for the passkey…">
        Add a passkey
      </BusyButton>
    </form>
  );
}
