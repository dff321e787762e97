import { cursorStoreConformance } from './cursor-store.conformance.js';
import { MemoryCursorStore } from './memory-cursor-store.js';

cursorStoreConformance('MemoryCursorStore', async () => {
  const store = new MemoryCursorStore();
  return { store, another: async () => store, cleanup: async () => {} };
});
