import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TERMINAL_STATES, TRANSITIONS, UploadState, canTransition } from './upload-state.js';

describe('the transition table', () => {
  const states = Object.keys(TRANSITIONS);

  it('names only states it has, and every state by name', () => {
    for (const [from, targets] of Object.entries(TRANSITIONS)) {
      for (const to of targets.split(' ').filter(Boolean)) {
        assert.ok(states.includes(to), `${from} -> ${to}: no such state`);
      }
    }
    assert.deepEqual(Object.keys(UploadState), states);
    for (const state of states) assert.equal(UploadState[state as UploadState], state);
  });

  it('terminal states lead nowhere; the paths an upload takes are allowed', () => {
    for (const state of TERMINAL_STATES) {
      assert.equal(TRANSITIONS[state], '');
      for (const to of states) assert.equal(canTransition(state, to as UploadState), false);
    }
    const path: UploadState[] = ['queued', 'hashing', 'initiating', 'uploading', 'paused'];
    path.push('uploading', 'assembling', 'scanning', 'ready');
    for (let i = 1; i < path.length; i++) {
      assert.ok(canTransition(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`);
    }
    assert.equal(canTransition('uploading', 'queued'), false);
    assert.equal(canTransition('failed', 'queued'), true);
    assert.equal(canTransition('hashing', 'uploading'), false);
  });
});
