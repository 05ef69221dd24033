export * from './src/auth-schema.ts';
export * from './src/client.ts';
export * from './src/migrate.ts';
export * from './src/outbox.ts';
export * from './src/schema.ts';
