import { ROLES, type Role } from './roles.js';

/**
 * The event catalog: which roles may receive each published event type, and who gets it when the publisher
 * names no target. It is an allow-list applied on every delivery path, whatever the publisher targeted.
 */
export interface CatalogEntry {
  readonly type: string;
  /** Roles whose connections may receive this type. */
  readonly mayReceive: ReadonlySet<Role>;
  /** Audience when no target is given; empty means a target is required. */
  readonly defaultRoles: readonly Role[];
}

const ALL = ROLES;

const rows: ReadonlyArray<readonly [types: readonly string[], mayReceive: readonly Role[], defaults: readonly Role[]]> = [
  [['system.health.update'], ['admin', 'staff'], ['admin', 'staff']],
  [['system.alert'], ['admin'], ['admin']],
  [['user.online', 'user.offline', 'user.registered'], ['admin'], ['admin']],
  [['course.submitted', 'content.flagged', 'moderation.reported'], ['admin', 'staff'], ['admin', 'staff']],
  [['ai.anomaly', 'ai.safety_violation', 'safety.incident', 'ticket.escalated', 'refund.requested'], ['admin'], ['admin']],
  [['payment.received'], ['admin', 'parent'], ['admin']],
  [['ticket.created'], ['staff'], ['staff']],
  [['notification'], ALL, []],
  [
    ['student.achievement.unlocked', 'student.assignment.due', 'student.quiz.results', 'student.course.milestone', 'student.ai_tutor.response'],
    ['student'],
    [],
  ],
  [
    ['parent.child.activity', 'parent.payment.confirmed', 'parent.progress.update', 'parent.safety.notification', 'parent.report.weekly'],
    ['parent'],
    [],
  ],
  [
    ['instructor.enrollment.new', 'instructor.question.received', 'instructor.course.review_status', 'instructor.revenue.update', 'instructor.attendance.update'],
    ['instructor'],
    [],
  ],
  [['admin.metrics.update', 'admin.provider.health', 'admin.summary.daily'], ['admin'], ['admin']],
  [['partner.content.status', 'partner.revenue_share.update', 'partner.collaboration.request', 'partner.api_usage'], ['partner'], []],
  [['staff.ticket.update', 'staff.review.assigned', 'staff.monitoring.alert', 'staff.team_chat'], ['staff'], []],
];

export const CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(
  rows.flatMap(([types, mayReceive, defaults]) =>
    types.map((type) => [type, { type, mayReceive: new Set(mayReceive), defaultRoles: defaults }] as const),
  ),
);

export function catalogEntry(type: string): CatalogEntry | undefined {
  return CATALOG.get(type);
}

export function mayReceive(type: string, role: Role): boolean {
  return CATALOG.get(type)?.mayReceive.has(role) ?? false;
}
