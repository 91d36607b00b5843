import { sql, type Kysely } from 'kysely';

export const up = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema
    .createTable('staff_tickets')
    .addColumn('ticket_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('requester_id', 'varchar(256)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('staff_tickets_status').on('staff_tickets').columns(['status', 'updated_at']).execute();

  await db.schema
    .createTable('staff_ticket_messages')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('ticket_id', 'varchar(128)', (c) => c.notNull().references('staff_tickets.ticket_id').onDelete('cascade'))
    .addColumn('sender_id', 'varchar(256)', (c) => c.notNull())
    .addColumn('sender_role', 'varchar(16)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('is_internal', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('client_msg_id', 'varchar(128)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('staff_ticket_messages_ticket').on('staff_ticket_messages').columns(['ticket_id', 'id']).execute();
  await db.schema
    .createIndex('staff_ticket_messages_client_msg')
    .on('staff_ticket_messages')
    .columns(['ticket_id', 'sender_id', 'client_msg_id'])
    .unique()
    .where(sql.ref('client_msg_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('staff_ticket_read_receipts')
    .addColumn('ticket_id', 'varchar(128)', (c) => c.notNull().references('staff_tickets.ticket_id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(256)', (c) => c.notNull())
    .addColumn('last_read_message_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('read_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('staff_ticket_read_receipts_pk', ['ticket_id', 'user_id'])
    .execute();
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema.dropTable('staff_ticket_read_receipts').execute();
  await db.schema.dropTable('staff_ticket_messages').execute();
  await db.schema.dropTable('staff_tickets').execute();
};
