import { describe, expect, it } from 'vitest';
import { lookAlikeOf, lookAlikeRisk, skeleton } from './confusables.js';

describe('skeleton', () => {
  it.each([
    ['\u041ewner', 'Cyrillic capital O'],
    ['\u039fwner', 'Greek capital Omicron'],
    ['OWNER', 'capitals'],
    [' owner ', 'spaces'],
    ['Ow\u200bner', 'a zero-width space'],
    ['\uff2fwner', 'a fullwidth O (NFKC)'],
    ['0wner', 'a zero for the O'],
    ['Öwner', 'an accent'],
    ['\u043ewn\u0435r', 'small Cyrillic о and е'],
  ])('folds %s (%s) onto Owner', (name) => {
    expect(skeleton(name)).toBe(skeleton('Owner'));
  });

  it('takes I, l and 1 for one another, and rn for m', () => {
    expect(skeleton('VIewer')).toBe(skeleton('Viewer'));
    expect(skeleton('Vlewer')).toBe(skeleton('Viewer'));
    expect(skeleton('Rurnner')).toBe(skeleton('Rumner'));
  });

  it('keeps different names apart', () => {
    expect(skeleton('Developer')).not.toBe(skeleton('Developers'));
    expect(skeleton('deploy-bot')).not.toBe(skeleton('deploy-box'));
  });
});

describe('lookAlikeOf', () => {
  it('finds the name a look-alike could pass for, but not the very same name', () => {
    expect(lookAlikeOf('\u041ewner', ['Developer', 'Owner'])).toBe('Owner');
    expect(lookAlikeOf('Owner', ['Owner'])).toBeNull();
    expect(lookAlikeOf('Operator', ['Owner'])).toBeNull();
  });
});

describe('lookAlikeRisk', () => {
  it('refuses invisible characters and unusual spaces', () => {
    expect(lookAlikeRisk('ci\u200bbot')).toMatch(/U\+200B/);
    expect(lookAlikeRisk('ci\u00a0bot')).toMatch(/U\+00A0/);
    expect(lookAlikeRisk('ci\u2060bot')).toMatch(/U\+2060/);
    expect(lookAlikeRisk('\u202ebot')).toMatch(/U\+202E/);
  });

  it('refuses Latin mixed with Cyrillic or Greek', () => {
    expect(lookAlikeRisk('d\u0435ploy')).toBe('it mixes Latin and Cyrillic letters');
    expect(lookAlikeRisk('\u03b1lpha')).toBe('it mixes Latin and Greek letters');
  });

  it('accepts one script, digits, punctuation, plain spaces and emoji sequences', () => {
    for (const name of ['deploy-bot 2', 'деплой', 'Ωμέγα', 'données', '👩‍💻 ci', 'ci_bot.prod']) expect(lookAlikeRisk(name)).toBeNull();
  });
});
