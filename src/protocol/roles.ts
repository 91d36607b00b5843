export const ROLES = ['admin', 'staff', 'instructor', 'parent', 'student', 'partner'] as const;
export type Role = (typeof ROLES)[number];

const roleSet: ReadonlySet<string> = new Set(ROLES);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && roleSet.has(value);
}

/** Roles that see staff-only content (internal notes, any ticket). */
export function isStaffRole(role: Role): boolean {
  return role === 'admin' || role === 'staff';
}
