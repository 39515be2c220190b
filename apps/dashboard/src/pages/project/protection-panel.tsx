import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { protectionQuery } from '../../api/queries';
import type { Project } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { useOrgAccess } from '../../lib/use-org-access';
import { DomainsForm } from './domains-form';
import { ProtectionForm } from './protection-form';
import { RefusalsPanel } from './refusals-panel';

type Props = {
  orgId: string;
  project: Project;
  /** Whether its tab is the one shown: nothing is fetched before it first is. */
  isVisible: boolean;
  /** Told whenever the settings form starts or stops holding unsaved changes. */
  onChangedState: (isChanged: boolean) => void;
};

/** The project's front door: what was refused lately, the allowed domains, bot protection, limits and spam rules. */
export function ProtectionPanel({ orgId, project, isVisible, onChangedState }: Props) {
  // Mounted with the other tabs, but loaded only once opened; then kept, so a draft survives tab switches.
  const [wasShown, setWasShown] = useState(isVisible);
  if (isVisible && !wasShown) setWasShown(true);
  return wasShown ? <ProtectionSections orgId={orgId} project={project} isVisible={isVisible} onChangedState={onChangedState} /> : null;
}

function ProtectionSections({ orgId, project, isVisible, onChangedState }: Props) {
  const { can } = useOrgAccess(orgId);
  // Only decides what to offer; the server checks project_write on every change.
  const canEdit = can('project_write');
  const protection = useQuery(protectionQuery(orgId, project.id));

  return (
    <div className="protection" data-testid="protection">
      {!canEdit && (
        <p className="notice notice-warning" data-testid="protection-read-only">
          Your role can see this project’s protection but not change it.
        </p>
      )}
      <RefusalsPanel orgId={orgId} projectId={project.id} isVisible={isVisible} />
      {protection.isPending ? (
        <p className="muted">Loading protection settings…</p>
      ) : protection.isError ? (
        <ErrorNotice error={protection.error} />
      ) : (
        <>
          <DomainsForm orgId={orgId} projectId={project.id} domains={protection.data.domains} canEdit={canEdit} />
          <ProtectionForm
            orgId={orgId}
            projectId={project.id}
            protection={protection.data}
            hasIdentitySecret={project.hasIdentitySecret}
            canEdit={canEdit}
            onChangedState={onChangedState}
          />
        </>
      )}
    </div>
  );
}
