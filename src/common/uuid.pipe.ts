import { Injectable, type PipeTransform } from '@nestjs/common';
import { assertUuid, assertUuidList } from './validation.js';

/** `@Args('id', { type: () => ID }, UuidPipe)`: a malformed id is BAD_USER_INPUT before the service runs. */
@Injectable()
export class UuidPipe implements PipeTransform<string | null | undefined, string | null | undefined> {
  transform(value: string | null | undefined, metadata: { data?: string }): string | null | undefined {
    if (value === null || value === undefined) return value;
    return assertUuid(value, metadata.data ?? 'id');
  }
}

/** For `[ID!]!` arguments: every element a UUID, no duplicates, bounded length. Empty allowed. */
@Injectable()
export class UuidListPipe implements PipeTransform<string[], string[]> {
  transform(value: string[], metadata: { data?: string }): string[] {
    return assertUuidList(value, metadata.data ?? 'ids', { allowEmpty: true });
  }
}
