// A procedure's registration and, for a shared registration (spec: "Shared Registration"),
// which of its callees an invocation goes to under its policy. The dealer owns the
// registrations; this module owns their shape and the choice of callee.

import type { RegistrationId } from '../protocol/ids';
import type { MatchPolicy } from '../protocol/uri';
import type { Session } from './session';

export const invokePolicies = ['single', 'roundrobin', 'random', 'first', 'last'] as const;
export type InvokePolicy = (typeof invokePolicies)[number];
export interface Registration {
  id: RegistrationId;
  uri: string;
  match: MatchPolicy;
  invoke: InvokePolicy;
  created: string;
  /** In registration order: `first` and `last` mean exactly this order. */
  callees: Session[];
  /** Always disclose the caller to this callee (router-internal callees such as the meta API). */
  discloseCaller: boolean;
  forwardTimeout: boolean;
  nextIndex: number;
}

/** The callee of the next invocation under `reg.invoke`; advances a round robin. */
export function pickCallee(reg: Registration): Session {
  const n = reg.callees.length;
  switch (reg.invoke) {
    case 'single':
    case 'first':
      return reg.callees[0] as Session;
    case 'last':
      return reg.callees[n - 1] as Session;
    case 'random':
      return reg.callees[Math.floor(Math.random() * n)] as Session;
    case 'roundrobin': {
      const callee = reg.callees[reg.nextIndex % n] as Session;
      reg.nextIndex = (reg.nextIndex + 1) % n;
      return callee;
    }
  }
}
