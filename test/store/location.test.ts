/** Store URLs and the etcd flags: every rule a row. */
import { describe, expect, it } from 'vitest';
import { describeLocation, parseStoreUrl, type EtcdFlags, type StoreLocation } from '../../master/store/location.js';
import { parseMasterArgs } from '../../master/main.js';
import { resolveConfig } from '../../master/config.js';

describe('parseStoreUrl', () => {
  const good: [string, EtcdFlags, Partial<StoreLocation> & Record<string, unknown>][] = [
    ['sqlite:/var/lib/skiff', {}, { kind: 'sqlite', dir: '/var/lib/skiff', path: '/var/lib/skiff/skiff.db' }],
    ['sqlite:rel/dir', {}, { kind: 'sqlite', dir: 'rel/dir' }],
    ['etcd://h1', {}, { kind: 'etcd', hosts: ['http://h1:2379'], tls: false, root: '/skiff' }],
    ['etcd://h1:2379,h2:22379,10.0.0.3', {}, { hosts: ['http://h1:2379', 'http://h2:22379', 'http://10.0.0.3:2379'] }],
    ['etcd://[::1]:2379,[fe80::1]', {}, { hosts: ['http://[::1]:2379', 'http://[fe80::1]:2379'] }],
    ['etcd://h1/prod-a', {}, { root: '/prod-a' }],
    ['etcds://h1:2379', {}, { tls: true, hosts: ['https://h1:2379'] }],
    ['etcds://h1', { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' }, { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' }],
    ['etcd://root:s%3Acr%40t@h1', {}, { username: 'root', password: 's:cr@t' }],
    ['etcd://h1', { username: 'skiff', password: 'pw' }, { username: 'skiff', password: 'pw' }],
    ['etcd://u:p/w@h1/r', {}, { username: 'u', password: 'p/w', root: '/r', hosts: ['http://h1:2379'] }],
  ];
  it.each(good)('%s %j', (url, flags, expected) => {
    expect(parseStoreUrl(url, flags)).toMatchObject(expected);
  });

  const bad: [string, EtcdFlags, RegExp][] = [
    ['', {}, /must be sqlite:DIR, etcd:\/\/HOST:PORT/],
    ['/var/lib/skiff', {}, /must be sqlite:DIR/],
    ['mysql://h', {}, /must be sqlite:DIR/],
    ['sqlite:', {}, /give the data dir/],
    ['sqlite:/d', { caFile: 'ca.pem' }, /--etcd-cafile: only for etcd/],
    ['etcd:h1', {}, /must start with etcd:\/\//],
    ['etcd://', {}, /give at least one host/],
    ['etcd://h1,', {}, /host "": must be HOST or HOST:PORT/],
    ['etcd://h1:0', {}, /port must be 1–65535/],
    ['etcd://h1:99999', {}, /port must be 1–65535/],
    ['etcd://h_1', {}, /host "h_1"/],
    ['etcd://h1/', {}, /root "\/": must be one path segment/],
    ['etcd://h1/a/b', {}, /root "\/a\/b": must be one path segment/],
    ['etcd://h1/skiff/', {}, /must be one path segment/],
    ['etcd://h1?x=1', {}, /no query or fragment/],
    ['etcd://h1', { caFile: 'ca.pem' }, /--etcd-cafile: TLS files need an etcds:\/\/ URL/],
    ['etcds://h1', { certFile: 'c.pem' }, /--etcd-certfile and --etcd-keyfile go together/],
    ['etcds://h1', { caFile: '' }, /--etcd-cafile: must name a file/],
    ['etcd://u@h1', {}, /etcd user "u" needs a password/],
    ['etcd://h1', { username: 'u' }, /needs a password/],
    ['etcd://h1', { password: 'p' }, /--etcd-password needs --etcd-username/],
    ['etcd://u:p@h1', { username: 'v', password: 'q' }, /either in the URL or with --etcd-username/],
    ['etcd://:p@h1', {}, /user name must not be empty/],
    ['etcd://u:%zz@h1', {}, /password in the URL is not valid percent-encoding/],
  ];
  it.each(bad)('refuses %j %j', (url, flags, message) => {
    expect(() => parseStoreUrl(url, flags)).toThrowError(expect.objectContaining({ code: 'SKIFF_ERR_BAD_REQUEST', message: expect.stringMatching(message) }));
  });

  it('never echoes a password in an error or a description', () => {
    expect(() => parseStoreUrl('etcd://u:hunter2@h1?x')).toThrowError(/u:\*\*\*@/);
    expect(() => parseStoreUrl('etcd://u:hunter2@h1?x')).not.toThrowError(/hunter2/);
    expect(describeLocation(parseStoreUrl('etcds://u:hunter2@h1,h2:1/r'))).toBe('etcds://u@h1:2379,h2:1/r');
  });
});

describe('skiff master store and backup flags', () => {
  it('parses --store, the etcd flags and the backup schedule', () => {
    const args = ['--store', 'etcds://h1,h2', '--etcd-cafile', 'ca.pem', '--etcd-username', 'u', '--etcd-password', 'p', '--backup-schedule', '0 3 * * *', '--backup-keep', '3'];
    expect(parseMasterArgs(args)).toMatchObject({ store: 'etcds://h1,h2', etcd: { caFile: 'ca.pem', username: 'u', password: 'p' }, backupSchedule: '0 3 * * *', backupKeep: 3 });
  });
  const bad: [string[], RegExp][] = [
    [['--store', 'etcd://h1:0'], /--store: host "h1:0": port must be 1–65535/],
    [['--store', 'etcd://h1', '--etcd-keyfile', 'k'], /TLS files need an etcds/],
    [['--backup-keep', '0'], /--backup-keep: must be a whole number ≥ 1/],
    [['--backup-keep', 'many'], /--backup-keep: must be a whole number ≥ 1/],
  ];
  it.each(bad)('refuses %j', (args, message) => {
    expect(() => parseMasterArgs(args)).toThrowError(message);
  });
  it('refuses a bad schedule and etcd flags without an etcd store at config time', () => {
    expect(() => resolveConfig({ backupSchedule: 'at three' })).toThrowError(/backupSchedule: must be a cron expression/);
    expect(() => resolveConfig({ etcd: { caFile: 'ca.pem' } })).toThrowError(/need --store etcds/);
    expect(() => resolveConfig({ store: 'etcd://u:secret@h1:0' })).toThrowError(/store: host "h1:0"/);
    expect(() => resolveConfig({ store: 'etcd://u:secret@h1:0' })).not.toThrowError(/secret/);
  });
});
