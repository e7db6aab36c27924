// A team's section: the team (from the session's team list, which carries the caller's role) and the switcher.
import { error } from '@sveltejs/kit';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ params, parent }) => {
  const { session } = await parent();
  const teams = session?.teams ?? [];
  const team = teams.find((t) => t.id === params.teamId);
  if (!team) error(404, { message: 'No such team, or you are not a member of it.' });
  return { team, teams, role: team.role };
};
