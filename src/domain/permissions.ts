// Who may do what: the permission matrix, written once. Every /api/v1 operation asks for one
// permission (its OpenAPI `x-required-scope`, set in the route's doc()); a team member holds the
// permissions of their role, an API key those of its scopes. src/http/plugins/auth.ts enforces it
// on every route and on the live stream.
//
//   permission  what it covers                                              owner admin editor viewer
//   read        see anything of the tenant (items, stock, orders, channels)   x     x     x      x
//   write       change stock, items, listings, orders, transfers, imports     x     x     x
//   admin       channels and their credentials, users, API keys, webhooks,    x     x
//               tenant settings, the audit log
//   owner       billing and ownership                                         x
//   operator    the service's operators' console, across tenants: held by super admins (a flag
//               on the user, `stockclerk admin create`), never by a role or a key
//
// API keys carry the scopes read, write and admin (a key acts like a viewer, editor or admin); no
// key acts as an owner.

export const ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'admin', 'owner', 'operator'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  owner: ['read', 'write', 'admin', 'owner'],
  admin: ['read', 'write', 'admin'],
  editor: ['read', 'write'],
  viewer: ['read'],
};

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/** The permissions a role holds (an unknown role holds none), plus `operator` for a super admin. */
export function permissionsOf(role: string, superAdmin = false): ReadonlySet<Permission> {
  const granted: Permission[] = isRole(role) ? [...GRANTS[role]] : [];
  if (superAdmin) granted.push('operator');
  return new Set(granted);
}

/** May a role hand out this role? Owners any; admins up to admin; nobody else. */
export function canAssign(actor: Role, role: Role): boolean {
  if (actor === 'owner') return true;
  return actor === 'admin' && role !== 'owner';
}
