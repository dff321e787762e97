import { MemorySessionStore } from './memory-session-store.js';
import { sessionStoreConformance } from './session-store.conformance.js';

sessionStoreConformance('MemorySessionStore', async () => {
  const store = new MemorySessionStore();
  return { store, cleanup: () => store.close() };
});
