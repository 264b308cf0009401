import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { graphql, GraphQLID, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pg from 'pg';

/** The peer of the hub's `jobs` query: plain graphql-js over node:http, one SQL query per request. */

interface NamedRow {
  id: string;
  name: string;
}

interface JobRow {
  id: string;
  status: string;
  model: NamedRow & { project: NamedRow };
  trusts: NamedRow[];
  net: NamedRow | null;
}

interface Context {
  pool: pg.Pool;
}

/** Every job with its model, project, trusts and net, in one statement (the same rows the hub reads). */
const JOBS_SQL = `select j.id, j.status,
    json_build_object('id', m.id, 'name', m.name, 'project', json_build_object('id', p.id, 'name', p.name)) as model,
    coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name) order by t.name)
              from job_trust jt join trust t on t.id = jt.trust_id where jt.job_id = j.id), '[]'::json) as trusts,
    case when n.id is null then null else json_build_object('id', n.id, 'name', n.name) end as net
  from job j join model m on m.id = j.model_id join project p on p.id = m.project_id left join net n on n.id = j.net_id
  order by j.seq`;

const named = (name: string) =>
  new GraphQLObjectType<NamedRow, Context>({
    name,
    fields: { id: { type: new GraphQLNonNull(GraphQLID) }, name: { type: new GraphQLNonNull(GraphQLString) } },
  });

const Project = named('Project');
const Trust = named('Trust');
const Net = named('Net');
const Model = new GraphQLObjectType<JobRow['model'], Context>({
  name: 'Model',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    name: { type: new GraphQLNonNull(GraphQLString) },
    project: { type: new GraphQLNonNull(Project) },
  },
});
const Job = new GraphQLObjectType<JobRow, Context>({
  name: 'Job',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    status: { type: new GraphQLNonNull(GraphQLString) },
    model: { type: new GraphQLNonNull(Model) },
    trusts: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Trust))) },
    net: { type: Net },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Context>({
    name: 'Query',
    fields: {
      jobs: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Job))),
        resolve: async (_root, _args, { pool }) => (await pool.query<JobRow>(JOBS_SQL)).rows,
      },
    },
  }),
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export interface PlainGraphqlServer {
  url: string;
  close(): Promise<void>;
}

export async function startPlainGraphqlServer(databaseUrl: string): Promise<PlainGraphqlServer> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const { query, variables } = JSON.parse(await readBody(req)) as { query: string; variables?: Record<string, unknown> };
        const result = await graphql({ schema, source: query, variableValues: variables, contextValue: { pool } });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: String(error) }] }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
