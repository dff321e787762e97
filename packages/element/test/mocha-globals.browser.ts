/** Typed access to the mocha globals that @web/test-runner provides (no @types/mocha here). */

interface MochaContext {
  timeout(ms: number): void;
}
type Body = (this: MochaContext) => void | Promise<void>;
interface MochaGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body): void;
  beforeEach(body: Body): void;
  afterEach(body: Body): void;
}

const mocha = globalThis as unknown as MochaGlobals;
export const describe: MochaGlobals['describe'] = (name, body) => mocha.describe(name, body);
export const it: MochaGlobals['it'] = (name, body) => mocha.it(name, body);
export const beforeEach: MochaGlobals['beforeEach'] = (body) => mocha.beforeEach(body);
export const afterEach: MochaGlobals['afterEach'] = (body) => mocha.afterEach(body);
