/**
 * Project routes: `POST/GET /api/teams/:teamId/projects`, `GET/PATCH/DELETE /api/projects/:projectId`.
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { displayNameSchema, slugSchema } from '../core/slugs.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { ProjectRow } from './project.entity.ts';
import type { ProjectsService } from './projects.service.ts';

/** ProjectSchema is the API form of a project. */
export const ProjectSchema = z
  .object({
    id: z.uuid(),
    teamId: z.uuid(),
    slug: z.string().describe('Immutable slug'),
    name: z.string().describe('Display name'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Project' });

/** toProject maps a row to ProjectSchema. */
export function toProject(p: ProjectRow): z.infer<typeof ProjectSchema> {
  return { id: p.id, teamId: p.teamId, slug: p.slug, name: p.name, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
}

/** immutableSlug refuses a slug in an update body with a message naming the rule. */
export const immutableSlug = z.never({ message: 'is immutable; renaming changes the display name only' }).optional();

/** CreateProjectBody is the body of POST /api/teams/:teamId/projects. */
export const CreateProjectBody = z.object({ slug: slugSchema, name: displayNameSchema.optional() }).strict().meta({ id: 'CreateProject' });
/** UpdateProjectBody is the body of PATCH /api/projects/:projectId. */
export const UpdateProjectBody = z.object({ name: displayNameSchema, slug: immutableSlug }).strict().meta({ id: 'UpdateProject' });

const TeamParams = z.object({ teamId: z.string().max(64) });
const ProjectParams = z.object({ projectId: z.string().max(64) });

/** projectRoutes declares the project operations over a ProjectsService. */
export function projectRoutes(svc: ProjectsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createProject', method: 'post', path: '/api/teams/:teamId/projects', summary: 'Create a project (with its production environment)',
      tags: ['projects'], auth: 'user', params: TeamParams, body: CreateProjectBody, status: 201, errors: [409],
      responses: { 201: { description: 'The project', schema: ProjectSchema } },
      handler: async ({ actor, params, body }) => toProject(await svc.create(actor!, params.teamId, body)),
    }),
    defineRoute({
      operationId: 'listProjects', method: 'get', path: '/api/teams/:teamId/projects', summary: "List a team's projects",
      tags: ['projects'], auth: 'user', params: TeamParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of projects', schema: pageSchema(ProjectSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.teamId, query);
        return { items: page.items.map(toProject), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getProject', method: 'get', path: '/api/projects/:projectId', summary: 'Get a project',
      tags: ['projects'], auth: 'user', params: ProjectParams, status: 200,
      responses: { 200: { description: 'The project', schema: ProjectSchema } },
      handler: async ({ actor, params }) => toProject(await svc.get(actor!, params.projectId)),
    }),
    defineRoute({
      operationId: 'updateProject', method: 'patch', path: '/api/projects/:projectId', summary: "Rename a project (display name only)",
      tags: ['projects'], auth: 'user', params: ProjectParams, body: UpdateProjectBody, status: 200,
      responses: { 200: { description: 'The project', schema: ProjectSchema } },
      handler: async ({ actor, params, body }) => toProject(await svc.rename(actor!, params.projectId, body.name)),
    }),
    defineRoute({
      operationId: 'deleteProject', method: 'delete', path: '/api/projects/:projectId', summary: 'Delete a project with everything in it',
      tags: ['projects'], auth: 'user', params: ProjectParams, status: 204,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await svc.delete(actor!, params.projectId);
      },
    }),
  ];
}
