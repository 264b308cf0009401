import { describe, expect, it } from '@jest/globals';
import { againstLimit, END_WORDS, inWords, limitValue, PENDING_WORDS, timeValue } from './format.js';

describe('words and values for people', () => {
  it('says why a job waits or ended in words, and words a code it does not know', () => {
    expect(inWords(PENDING_WORDS, 'CLIENTS_OFFLINE')).toBe('clients offline');
    expect(inWords(PENDING_WORDS, 'TRUST_HELD')).toBe('a trust is on hold');
    expect(inWords(END_WORDS, 'ADMISSION_TIMEOUT')).toBe('clients offline for too long');
    expect(inWords(PENDING_WORDS, 'SOME_NEW_REASON')).toBe('some new reason');
    expect(inWords(PENDING_WORDS, null)).toBe('—');
  });

  it('shows a running count against its limit', () => {
    expect(againstLimit(1, 2)).toBe('1 of 2');
    expect(againstLimit(0, null)).toBe('0 (no limit)');
  });

  it('reads a limit: empty is none, a whole number at least the minimum, anything else is refused', () => {
    expect(limitValue('')).toBeNull();
    expect(limitValue(' 3 ')).toBe(3);
    expect(limitValue('0')).toBe(0);
    expect(limitValue('0', 1)).toBeUndefined();
    expect(limitValue('2.5')).toBeUndefined();
    expect(limitValue('-1')).toBeUndefined();
    expect(limitValue('two')).toBeUndefined();
  });

  it("reads a datetime-local input's time", () => {
    expect(timeValue('')).toBeNull();
    expect(timeValue('2026-12-01T18:30')).toBe(new Date(2026, 11, 1, 18, 30).toISOString());
    expect(timeValue('soon')).toBeUndefined();
  });
});
