// The organisation's members, for assignee pickers and for naming people in the timeline.
import { listMembers, type Member } from './api.ts';
import { type Loaded, useLoader } from './useLoader.ts';

export function useMembers(): Loaded<Member[]> {
  return useLoader('members', async () => (await listMembers()).data);
}
