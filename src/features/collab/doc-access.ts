import type { AuthUser } from '../../core/auth.js';

/** What a user may do with a document: edit, only watch (sync and awareness, updates ignored), or nothing. */
export type DocumentAccess = 'write' | 'read' | 'none';

/**
 * The authorization seam of collaborative documents (SPEC §6): asked once per connection, before the document
 * is loaded. A rejection or an answer that is not one of the three counts as 'none' (fail closed).
 */
export type DocumentAuthorizer = (user: AuthUser, docId: string) => Promise<DocumentAccess>;

/** The default: every authenticated user may edit every document. */
export const allowAllDocuments: DocumentAuthorizer = async () => 'write';

export function isDocumentAccess(value: unknown): value is DocumentAccess {
  return value === 'write' || value === 'read' || value === 'none';
}
