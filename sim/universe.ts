// The fixed cast of the simulated Scarf account: artifacts, companies, places, clients.
// Names are chosen to stress parsers (unicode, commas, quotes) the way real data does.

import { hash32, hex } from './prng.js';

export type ArtifactKind = 'npm' | 'pypi' | 'docker' | 'file' | 'pixel';

export interface Artifact {
  name: string;
  kind: ArtifactKind;
  versions: readonly string[];
  endpoints: readonly string[];
}

export const PACKAGES: readonly Artifact[] = [
  {
    name: '@acme/widgets',
    kind: 'npm',
    versions: ['1.4.0', '1.4.1', '2.0.0-beta.3', '2.0.0'],
    endpoints: ['5f1c3a9e-0d6b-4c2e-9a51-6f0e2b7d1a01'],
  },
  { name: 'acme-cli', kind: 'pypi', versions: ['0.9.12', '1.0.0', '1.0.1'], endpoints: ['8b2d4e6f-1a3c-4e5b-8d7f-9a0b1c2d3e02'] },
  {
    name: 'acme/acme-server',
    kind: 'docker',
    versions: ['latest', '3.2', '3.2.1', 'sha256:9f8e7d6c5b4a'],
    endpoints: ['c3d5e7f9-2b4d-4f6a-8c0e-1d3f5a7b9c03', 'c3d5e7f9-2b4d-4f6a-8c0e-1d3f5a7b9c04'],
  },
  { name: 'acme-tools', kind: 'file', versions: ['2024.1', '2024.2'], endpoints: ['d4e6f8a0-3c5e-4a7b-9d1f-2e4a6b8c0d05'] },
];

export const PIXELS: readonly Artifact[] = [
  { name: 'docs-pixel', kind: 'pixel', versions: [], endpoints: ['e5f7a9b1-4d6f-4b8c-ae20-3f5b7c9d1e06'] },
  { name: 'readme-pixel', kind: 'pixel', versions: [], endpoints: ['f6a8b0c2-5e7a-4c9d-bf31-4a6c8d0e2f07'] },
  { name: 'website-pixel', kind: 'pixel', versions: [], endpoints: ['a7b9c1d3-6f8b-4dae-8042-5b7d9e1f3a08'] },
];

export interface Place {
  country: string;
  city: string | null;
  state: string | null;
  postal: string | null;
  lat: number;
  lon: number;
}

export const PLACES: readonly Place[] = [
  { country: 'US', city: 'San Francisco', state: 'CA', postal: '94103', lat: 37.7749, lon: -122.4194 },
  { country: 'US', city: 'Ashburn', state: 'VA', postal: '20147', lat: 39.0438, lon: -77.4874 },
  { country: 'DE', city: 'Berlin', state: 'BE', postal: '10115', lat: 52.52, lon: 13.405 },
  { country: 'CH', city: 'Zürich', state: 'ZH', postal: '8001', lat: 47.3769, lon: 8.5417 },
  { country: 'JP', city: 'Tokyo', state: '13', postal: '100-0001', lat: 35.6762, lon: 139.6503 },
  { country: 'GB', city: 'London', state: 'ENG', postal: 'SW1A 1AA', lat: 51.5072, lon: -0.1276 },
  { country: 'BR', city: 'São Paulo', state: 'SP', postal: '01000-000', lat: -23.5505, lon: -46.6333 },
  { country: 'IN', city: 'Bengaluru', state: 'KA', postal: '560001', lat: 12.9716, lon: 77.5946 },
  { country: 'FR', city: 'Paris', state: 'IDF', postal: '75001', lat: 48.8566, lon: 2.3522 },
  { country: 'CA', city: 'Toronto', state: 'ON', postal: 'M5H 2N2', lat: 43.6532, lon: -79.3832 },
  { country: 'AU', city: 'Sydney', state: 'NSW', postal: '2000', lat: -33.8688, lon: 151.2093 },
  { country: 'NL', city: null, state: null, postal: null, lat: 52.1326, lon: 5.2913 },
];

export const CLOUDS: readonly { name: string; domain: string }[] = [
  { name: 'Amazon Web Services', domain: 'aws.amazon.com' },
  { name: 'Google Cloud', domain: 'cloud.google.com' },
  { name: 'Microsoft Azure', domain: 'azure.microsoft.com' },
  { name: 'Hetzner Online GmbH', domain: 'hetzner.com' },
];

/**
 * How a company behaves over time, relative to the universe's anchor day A (the day the
 * simulator was configured for) and its first data day S. `to: 'open'` keeps going as the
 * sim clock moves forward.
 */
export interface Profile {
  from: { base: 'S' | 'A'; offset: number };
  to: { base: 'S' | 'A'; offset: number } | 'open';
  p: number; // probability of any activity on a day
  maxPerDay: number;
}

export interface CompanyTemplate {
  name: string;
  domain: string;
  industry: string | null;
  size: string | null;
  place: number; // index into PLACES
  linkedin: string | null;
  revenue: string;
  profile: Profile;
}

const open = (p: number, maxPerDay: number, fromS = 0): Profile => ({
  from: { base: 'S', offset: fromS },
  to: 'open',
  p,
  maxPerDay,
});

export const COMPANY_TEMPLATES: readonly CompanyTemplate[] = [
  {
    name: 'Globex Corporation',
    domain: 'globex.com',
    industry: 'Software Development',
    size: '1001-5000',
    place: 0,
    linkedin: 'https://www.linkedin.com/company/globex',
    revenue: '$1B+',
    profile: open(0.9, 6),
  },
  {
    name: 'Zürich Ünïcode AG',
    domain: 'zuerich-unicode.ch',
    industry: 'Financial Services',
    size: '201-500',
    place: 3,
    linkedin: 'https://www.linkedin.com/company/zuerich-unicode',
    revenue: '$50M-$100M',
    profile: open(0.5, 4),
  },
  {
    name: '株式会社テスト',
    domain: 'tesuto.co.jp',
    industry: 'IT Services and IT Consulting',
    size: '51-200',
    place: 4,
    linkedin: null,
    revenue: '$10M-$50M',
    profile: { from: { base: 'A', offset: -20 }, to: 'open', p: 0.7, maxPerDay: 3 },
  },
  {
    name: 'Ωmega "Labs", Inc.',
    domain: 'omega-labs.io',
    industry: 'Research',
    size: '11-50',
    place: 5,
    linkedin: 'https://www.linkedin.com/company/omega-labs',
    revenue: '$1M-$10M',
    profile: open(0.3, 2),
  },
  {
    name: 'State University of Example',
    domain: 'example-state.edu',
    industry: 'Higher Education',
    size: '5001-10000',
    place: 1,
    linkedin: 'https://www.linkedin.com/school/example-state',
    revenue: '$100M-$500M',
    profile: open(0.4, 3),
  },
  {
    name: 'U.S. Department of Examples',
    domain: 'examples.gov',
    industry: 'Government Administration',
    size: '10001+',
    place: 1,
    linkedin: null,
    revenue: '$1B+',
    profile: open(0.3, 2, 10),
  },
  {
    name: 'Initech',
    domain: 'initech.com',
    industry: 'Software Development',
    size: '501-1000',
    place: 9,
    linkedin: 'https://www.linkedin.com/company/initech',
    revenue: '$100M-$500M',
    profile: { from: { base: 'S', offset: 0 }, to: { base: 'A', offset: -70 }, p: 0.5, maxPerDay: 3 },
  },
  {
    name: 'Umbrella Corporation',
    domain: 'umbrella-corp.com',
    industry: 'Pharmaceutical Manufacturing',
    size: '10001+',
    place: 5,
    linkedin: 'https://www.linkedin.com/company/umbrella',
    revenue: '$1B+',
    profile: { from: { base: 'S', offset: 0 }, to: { base: 'S', offset: 8 }, p: 0.6, maxPerDay: 2 },
  },
  {
    name: 'Hooli',
    domain: 'hooli.xyz',
    industry: 'Technology, Information and Internet',
    size: '10001+',
    place: 0,
    linkedin: 'https://www.linkedin.com/company/hooli',
    revenue: '$1B+',
    profile: { from: { base: 'S', offset: 3 }, to: { base: 'A', offset: -58 }, p: 0.4, maxPerDay: 2 },
  },
  {
    name: 'Stark Industries',
    domain: 'stark-industries.com',
    industry: null,
    size: null,
    place: 0,
    linkedin: '',
    revenue: '$1B+',
    profile: { from: { base: 'A', offset: -6 }, to: 'open', p: 1, maxPerDay: 5 },
  },
  {
    name: 'Wayne Enterprises',
    domain: 'wayne-enterprises.com',
    industry: 'Holding Companies',
    size: '5001-10000',
    place: 1,
    linkedin: 'https://www.linkedin.com/company/wayne',
    revenue: '$1B+',
    profile: open(0.6, 3),
  },
  {
    name: 'Cyberdyne Systems',
    domain: 'cyberdyne.ai',
    industry: 'Robotics Engineering',
    size: '1001-5000',
    place: 7,
    linkedin: 'https://www.linkedin.com/company/cyberdyne',
    revenue: '$500M-$1B',
    profile: open(0.1, 2),
  },
];

/** Beyond the hand-written cast, more companies are synthesised with plain names. */
export function companyTemplate(index: number): CompanyTemplate {
  const t = COMPANY_TEMPLATES[index];
  if (t) return t;
  const n = index + 1;
  return {
    name: `Company ${n} Ltd`,
    domain: `company${n}.example`,
    industry: 'Software Development',
    size: '11-50',
    place: index % PLACES.length,
    linkedin: null,
    revenue: '$1M-$10M',
    profile: open(0.3, 2),
  };
}

export const REFERERS: readonly string[] = [
  'https://docs.acme.dev/getting-started',
  'https://docs.acme.dev/guide/install?tab=npm',
  'https://docs.acme.dev/search?q=widgets,cli',
  'https://www.acme.dev/',
  'https://www.acme.dev/pricing',
  'https://github.com/acme/widgets',
  'https://github.com/acme/widgets/blob/main/README.md',
  'https://www.npmjs.com/package/@acme/widgets',
  'https://pypi.org/project/acme-cli/',
  'https://blog.example.org/2024/why-we-chose-acme',
];

export const PLATFORMS: readonly string[] = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'darwin/amd64', 'windows/amd64'];

export const VARIABLE_SETS: readonly string[] = [
  'os=linux&arch=x64',
  'os=linux&arch=arm64',
  'os=darwin&arch=arm64',
  'os=windows&arch=x64&channel=stable',
  'channel=nightly',
];

/**
 * An artifact's id, as v3 and the company artifact rollups serve it: Scarf's ids are UUIDs,
 * these are fixed by the name alone (the same for every seed, like a real account's).
 */
export function artifactId(name: string): string {
  const h = (i: number) => hash32('artifact-id', name, i);
  const a = h(0),
    b = h(1),
    c = h(2),
    d = h(3);
  return `${hex(a, 8)}-${hex(b, 4)}-4${hex(b >>> 16, 3)}-${'89ab'[c & 3]}${hex(c >>> 8, 3)}-${hex(d, 8)}${hex(c >>> 20, 4)}`;
}

/** SIC codes of a company (v3 `company_sic_codes`, by-company-sic-code), from its industry. */
const SIC_BY_INDUSTRY: Readonly<Record<string, readonly string[]>> = {
  'Software Development': ['7372'],
  'Financial Services': ['6199', '6211'],
  'IT Services and IT Consulting': ['7371', '7379'],
  Research: ['8731'],
  'Higher Education': ['8221'],
  'Government Administration': ['9199'],
  'Pharmaceutical Manufacturing': ['2834'],
  'Technology, Information and Internet': ['7370'],
  'Holding Companies': ['6719'],
  'Robotics Engineering': ['3569', '8711'],
};

export function sicCodes(industry: string | null): readonly string[] {
  return industry === null ? [] : (SIC_BY_INDUSTRY[industry] ?? []);
}
