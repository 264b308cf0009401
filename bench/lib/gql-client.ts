import { Agent, request } from 'node:http';

export interface GqlError {
  message: string;
  extensions?: { code?: string };
}

export interface GqlResponse<T> {
  data?: T | null;
  errors?: GqlError[];
}

/** A minimal GraphQL-over-HTTP client on a keep-alive node:http Agent. */
export class GqlClient {
  private readonly agent: Agent;
  private readonly target: URL;

  constructor(
    url: string,
    private readonly token: string | null = null,
    maxSockets = 16,
  ) {
    this.target = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  async request<T>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
    const body = JSON.stringify({ query, variables });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(this.target, { method: 'POST', agent: this.agent, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    return JSON.parse(text) as GqlResponse<T>;
  }

  /** Like `request`, but throws on any GraphQL error. */
  async ok<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const response = await this.request<T>(query, variables);
    if (response.errors?.length || !response.data) {
      throw new Error(`GraphQL errors from ${this.target.host}: ${JSON.stringify(response.errors ?? 'no data')}`);
    }
    return response.data;
  }

  close(): void {
    this.agent.destroy();
  }
}
