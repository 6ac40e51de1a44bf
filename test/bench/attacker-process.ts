/**
 * The attackers of the `attack` bench (attackers.ts) in a process of their own, driven over IPC
 * (startAttackerProcess in attack.bench.ts), so that their CPU does not take the load generator's
 * event loop and can be measured apart.
 */
import { Attack, type AttackPlan, openFileLimit } from './attackers';

export type AttackerOp = { op: 'start'; plan: AttackPlan } | { op: 'stop' };
export type AttackerRequest = AttackerOp & { id: number };

export interface AttackerReply {
  id: number;
  result?: unknown;
  error?: string;
}

let attack: Attack | undefined;

// The benchmark died or let go: never outlive it.
process.on('disconnect', () => process.exit(0));

process.on('message', async (message: AttackerRequest) => {
  const reply = (answer: Omit<AttackerReply, 'id'>) => process.send?.({ id: message.id, ...answer });
  try {
    if (message.op === 'start') {
      if (attack) throw new Error('the attack is already going');
      attack = new Attack(message.plan);
      await attack.start();
      reply({ result: null });
    } else {
      const stats = await attack?.stop();
      attack = undefined;
      reply({ result: stats ?? null });
    }
  } catch (error) {
    reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});

process.send?.({ id: 0, result: { pid: process.pid, openFileLimit: openFileLimit() } });
