import { describe, expect, it } from 'vitest';
import { isPrivateAddress, webhookUrlProblem } from './webhook-url.ts';

describe('webhook URLs (SSRF)', () => {
  it('allow public https and the development loopback', () => {
    for (const u of [
      'https://hooks.example.com/in',
      'https://203.0.113.9/x',
      'http://127.0.0.1:8080/h',
      'http://localhost:3000/h',
      'https://localhost/h',
      'http://[::1]:9/h',
    ]) {
      expect(webhookUrlProblem(u), u).toBeNull();
    }
  });
  it('refuse private, link-local, reserved and non-https targets', () => {
    for (const u of [
      'http://hooks.example.com/in',
      'https://10.1.2.3/x',
      'https://192.168.1.1/',
      'https://172.20.0.1/',
      'https://169.254.169.254/latest/meta-data',
      'https://127.0.0.2/',
      'https://100.64.1.1/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://0.0.0.0/',
      'https://metadata.google.internal/',
      'https://printer.local/',
      'https://intranet/',
      'https://user:pw@hooks.example.com/',
      'ftp://hooks.example.com/',
    ]) {
      expect(webhookUrlProblem(u), u).not.toBeNull();
    }
  });
  it('classifies resolved addresses', () => {
    expect(isPrivateAddress('10.0.0.1')).toBe(true);
    expect(isPrivateAddress('::ffff:192.168.0.1')).toBe(true);
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
  });
});
